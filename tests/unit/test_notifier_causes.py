"""The cause of an alert: the funding event behind it (who acted, on which line, before →
after, why), told in one sentence per kind of event in Italian and English, first in the
story of a status change's and a drop's e-mail, and as `causes` in their webhooks. Pure."""

import dataclasses
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from regia_notifier.domain.causes import (
    FUNDING_EVENTS,
    KINDS,
    MAX_TOLD,
    FundingCause,
    cause_of,
    concerning,
)
from regia_notifier.domain.messages import render_alert
from regia_notifier.domain.messages.causes import SHOWN, cause_facts, cause_sentence
from regia_notifier.domain.occurrences import CurrentState, FundingDrop, StatusChange, YearState
from regia_notifier.domain.planning import Cause, webhook_body
from regia_shared.contracts.events.funding import (
    FundingCommitted,
    FundingDisbursed,
    FundingLineChanged,
    FundingReallocated,
    FundingRevised,
    FundingRevoked,
    FundingRolledOver,
)
from regia_shared.contracts.events.objectives import CoverageStatus as S
from regia_shared.contracts.levels import GovernmentLevel

AT = datetime(2027, 3, 1, 9, 29, 59, tzinfo=UTC)
EVENT = uuid.UUID("7a3e9c14-2b5d-4f60-8e21-9d4c6b1a0f33")

# The quick start's cut: Regione Liguria's €4.5M on the Miglio Blu down to €3M.
CUT = FundingCause(
    event_id=EVENT,
    kind="revised",
    institution_id="regione-liguria",
    institution_name="Regione Liguria",
    level="REGIONE",
    line_id="LIG-2027-001",
    objective_id="miglio-blu",
    fiscal_year=2027,
    before_cents=4_500_000_00,
    after_cents=3_000_000_00,
    reason="Assestamento di bilancio",
    occurred_at=AT,
)


def funding_event(kind: type[FundingLineChanged], **changes: object) -> FundingLineChanged:
    fields: dict[str, object] = {
        "line_id": "LIG-2027-001",
        "institution_id": "regione-liguria",
        "level": GovernmentLevel.REGIONE,
        "objective_id": "miglio-blu",
        "fiscal_year": 2027,
        "committed_cents": 3_000_000_00,
        "disbursed_cents": 0,
        "line_version": 2,
        "delta_cents": -1_500_000_00,
        "reason": "Assestamento di bilancio",
    }
    return kind(**(fields | changes))


# -- FundingCause ------------------------------------------------------------------------


def test_a_funding_event_is_a_cause_with_the_lines_commitment_before_and_after() -> None:
    cause = cause_of(EVENT, funding_event(FundingRevised), AT, "Regione Liguria")
    assert cause == CUT
    assert (cause.before_cents, cause.after_cents, cause.delta_cents) == (4_500_000_00, 3_000_000_00, -1_500_000_00)
    assert cause.cut and not cause.raised
    raised = cause_of(EVENT, funding_event(FundingRevised, committed_cents=5_000_000_00, delta_cents=500_000_00), AT)
    assert (raised.before_cents, raised.after_cents) == (4_500_000_00, 5_000_000_00)
    assert raised.raised and not raised.cut and raised.institution_name is None


def test_every_kind_of_funding_event_has_its_kind_and_no_other_payload_is_a_cause() -> None:
    kinds = {
        FundingCommitted: "committed",
        FundingRevised: "revised",
        FundingRevoked: "revoked",
        FundingDisbursed: "disbursed",
        FundingReallocated: "reallocated",
        FundingRolledOver: "rolled_over",
    }
    assert set(FUNDING_EVENTS) == set(kinds) and set(KINDS) == set(kinds.values())
    for event_type, kind in kinds.items():
        assert cause_of(EVENT, funding_event(event_type), AT).kind == kind
    with pytest.raises(TypeError, match="FundingLineChanged"):
        cause_of(EVENT, funding_event(FundingLineChanged), AT)


def test_a_payment_and_money_moved_between_lines_keep_what_their_words_need() -> None:
    paid = cause_of(EVENT, funding_event(FundingDisbursed, delta_cents=0, disbursed_delta_cents=200_000_00), AT)
    assert (paid.before_cents, paid.after_cents, paid.disbursed_delta_cents) == (3_000_000_00, 3_000_000_00, 200_000_00)
    moved = cause_of(EVENT, funding_event(FundingReallocated, counterpart_line_id="LIG-2027-002"), AT)
    assert moved.counterpart_line_id == "LIG-2027-002"


def test_a_cause_concerns_its_year_its_objective_and_the_nodes_above_it() -> None:
    lineage = {"miglio-blu": ("liguria-2030", "mare", "miglio-blu")}
    other_year = dataclasses.replace(CUT, event_id=uuid.uuid4(), fiscal_year=2028)
    elsewhere = dataclasses.replace(CUT, event_id=uuid.uuid4(), objective_id="rete-lavoro")
    causes = [other_year, CUT, elsewhere]
    assert concerning(causes, "miglio-blu", 2027, lineage) == (CUT,)
    assert concerning(causes, "mare", 2027, lineage) == (CUT,)  # the programme above it
    assert concerning(causes, "liguria-2030", 2027, lineage) == (CUT,)
    assert concerning(causes, "miglio-blu", 2028, lineage) == (other_year,)
    assert concerning(causes, "rete-lavoro", 2027, lineage) == (elsewhere,)
    assert concerning(causes, "mare", 2027, {}) == ()  # parents not known: only itself
    assert concerning([], "miglio-blu", 2027, lineage) == ()


def test_a_bulk_operation_tells_the_latest_causes_oldest_first() -> None:
    many = [
        dataclasses.replace(CUT, event_id=uuid.uuid4(), occurred_at=AT + timedelta(seconds=n))
        for n in range(MAX_TOLD + 20)
    ]
    told = concerning(reversed(many), "miglio-blu", 2027, {})
    assert told == tuple(many[-MAX_TOLD:])


# -- the sentences -----------------------------------------------------------------------


def test_the_quick_starts_cut_in_both_languages() -> None:
    assert cause_sentence(CUT, "it") == (
        "Regione Liguria (Regione) ha ridotto la linea LIG-2027-001 da € 4.500.000,00 a € 3.000.000,00. "
        "Motivo: «Assestamento di bilancio»."
    )
    assert cause_sentence(CUT, "en") == (
        "Regione Liguria (Region) cut line LIG-2027-001 from €4,500,000.00 to €3,000,000.00. "
        "Reason: “Assestamento di bilancio”."
    )


def cause(kind: str, before: int, after: int, **changes: object) -> FundingCause:
    return dataclasses.replace(CUT, kind=kind, before_cents=before, after_cents=after, reason=None, **changes)  # type: ignore[arg-type]


SENTENCES = [
    (
        cause("committed", 0, 4_500_000_00),
        "Regione Liguria (Regione) ha impegnato € 4.500.000,00 sulla linea LIG-2027-001.",
        "Regione Liguria (Region) committed €4,500,000.00 on line LIG-2027-001.",
    ),
    (
        cause("revised", 3_000_000_00, 4_500_000_00),
        "Regione Liguria (Regione) ha aumentato la linea LIG-2027-001 da € 3.000.000,00 a € 4.500.000,00.",
        "Regione Liguria (Region) raised line LIG-2027-001 from €3,000,000.00 to €4,500,000.00.",
    ),
    (
        cause("revised", 4_500_000_00, 3_000_000_00),
        "Regione Liguria (Regione) ha ridotto la linea LIG-2027-001 da € 4.500.000,00 a € 3.000.000,00.",
        "Regione Liguria (Region) cut line LIG-2027-001 from €4,500,000.00 to €3,000,000.00.",
    ),
    (
        cause("revised", 3_000_000_00, 3_000_000_00),
        "Regione Liguria (Regione) ha rivisto la linea LIG-2027-001, che resta a € 3.000.000,00.",
        "Regione Liguria (Region) revised line LIG-2027-001, which stays at €3,000,000.00.",
    ),
    (
        cause("revoked", 3_000_000_00, 0),
        "Regione Liguria (Regione) ha revocato la linea LIG-2027-001: l'impegno passa da € 3.000.000,00 a € 0,00.",
        "Regione Liguria (Region) revoked line LIG-2027-001: its commitment went from €3,000,000.00 to €0.00.",
    ),
    (
        cause("disbursed", 3_000_000_00, 3_000_000_00, disbursed_delta_cents=1_250_000_50),
        "Regione Liguria (Regione) ha erogato € 1.250.000,50 sulla linea LIG-2027-001 (impegnato € 3.000.000,00).",
        "Regione Liguria (Region) disbursed €1,250,000.50 on line LIG-2027-001 (€3,000,000.00 committed).",
    ),
    (
        cause("reallocated", 3_000_000_00, 2_500_000_00, counterpart_line_id="LIG-2027-002"),
        "Regione Liguria (Regione) ha spostato € 500.000,00 dalla linea LIG-2027-001 alla linea LIG-2027-002: "
        "la linea LIG-2027-001 passa da € 3.000.000,00 a € 2.500.000,00.",
        "Regione Liguria (Region) moved €500,000.00 from line LIG-2027-001 to line LIG-2027-002: "
        "line LIG-2027-001 went from €3,000,000.00 to €2,500,000.00.",
    ),
    (
        cause("reallocated", 1_000_000_00, 1_500_000_00, counterpart_line_id="LIG-2027-002"),
        "Regione Liguria (Regione) ha spostato € 500.000,00 dalla linea LIG-2027-002 alla linea LIG-2027-001: "
        "la linea LIG-2027-001 passa da € 1.000.000,00 a € 1.500.000,00.",
        "Regione Liguria (Region) moved €500,000.00 from line LIG-2027-002 to line LIG-2027-001: "
        "line LIG-2027-001 went from €1,000,000.00 to €1,500,000.00.",
    ),
    (
        cause("rolled_over", 3_000_000_00, 1_000_000_00, counterpart_line_id="LIG-2027-001.2028"),
        "Regione Liguria (Regione) ha riportato € 2.000.000,00 della linea LIG-2027-001 all'anno successivo, "
        "sulla linea LIG-2027-001.2028: la linea LIG-2027-001 passa da € 3.000.000,00 a € 1.000.000,00.",
        "Regione Liguria (Region) rolled €2,000,000.00 of line LIG-2027-001 over to the next year, "
        "on line LIG-2027-001.2028: line LIG-2027-001 went from €3,000,000.00 to €1,000,000.00.",
    ),
    (
        cause("rolled_over", 0, 2_000_000_00, line_id="LIG-2027-001.2028", counterpart_line_id="LIG-2027-001"),
        "Regione Liguria (Regione) ha riportato € 2.000.000,00 dall'anno precedente (dalla linea LIG-2027-001) "
        "sulla linea LIG-2027-001.2028: la linea LIG-2027-001.2028 passa da € 0,00 a € 2.000.000,00.",
        "Regione Liguria (Region) rolled €2,000,000.00 over from the previous year (from line LIG-2027-001) "
        "to line LIG-2027-001.2028: line LIG-2027-001.2028 went from €0.00 to €2,000,000.00.",
    ),
]


@pytest.mark.parametrize(("told", "italian", "english"), SENTENCES, ids=lambda v: getattr(v, "kind", ""))
def test_each_kind_of_event_has_its_sentence_in_both_languages(told: FundingCause, italian: str, english: str) -> None:
    assert cause_sentence(told, "it") == italian
    assert cause_sentence(told, "en") == english


def test_every_kind_is_told() -> None:
    assert {c.kind for c, _, _ in SENTENCES} == set(KINDS)


def test_an_unknown_institution_is_named_by_its_id_and_an_unknown_level_as_sent() -> None:
    unknown = dataclasses.replace(CUT, institution_name=None, level="CONSORZIO", reason="  ")
    assert cause_sentence(unknown, "en") == (
        "regione-liguria (CONSORZIO) cut line LIG-2027-001 from €4,500,000.00 to €3,000,000.00."
    )
    assert cause_sentence(dataclasses.replace(CUT, level="STATO"), "en").startswith("Regione Liguria (State) cut")
    assert cause_sentence(dataclasses.replace(CUT, level="STATO"), "it").startswith("Regione Liguria (Stato) ha")


def test_the_levels_beside_government_read_in_words_too() -> None:
    port = dataclasses.replace(CUT, institution_name="Autorità di Sistema Portuale", level="OTHER_PUBLIC")
    assert cause_sentence(port, "en").startswith("Autorità di Sistema Portuale (Other public body) cut")
    assert cause_sentence(port, "it").startswith("Autorità di Sistema Portuale (Altro ente pubblico) ha")
    france = dataclasses.replace(CUT, institution_name="République française", level="FOREIGN_STATE")
    assert cause_sentence(france, "en").startswith("République française (Foreign state) cut")
    assert cause_sentence(france, "it").startswith("République française (Stato estero) ha")


def test_money_moved_to_a_line_not_named_still_reads() -> None:
    out = cause("reallocated", 3_000_000_00, 2_500_000_00)
    into = cause("rolled_over", 0, 2_000_000_00)
    assert "from line LIG-2027-001 to another line:" in cause_sentence(out, "en")
    assert "dalla linea LIG-2027-001 a un'altra linea:" in cause_sentence(out, "it")
    assert "over from the previous year (from another line) to line" in cause_sentence(into, "en")
    assert "dall'anno precedente (da un'altra linea) sulla linea" in cause_sentence(into, "it")


def test_outside_text_is_one_line_so_it_cannot_forge_a_header_or_a_fact() -> None:
    forged = dataclasses.replace(
        CUT, institution_name="Regione\nBcc: x@evil.example", line_id="L\r\n1", reason="taglio\n\nTo: y@evil"
    )
    for language in ("it", "en"):
        sentence = cause_sentence(forged, language)  # type: ignore[arg-type]
        assert "\n" not in sentence and "\r" not in sentence
        assert "Regione Bcc: x@evil.example" in sentence and "L 1" in sentence and "taglio To: y@evil" in sentence


# -- in the e-mails and webhooks ---------------------------------------------------------

STATUS = StatusChange(
    "miglio-blu", "Miglio Blu", 2027, S.PARTIALLY_FUNDED, S.AT_RISK, 6000, 5_000_000_00, 3_000_000_00, 80,
    causes=(CUT,),
)  # fmt: skip
DROP = FundingDrop(
    "miglio-blu", "Miglio Blu", 2027, 4_500_000_00, 3_000_000_00, 5_000_000_00, 6000, S.AT_RISK, 80, causes=(CUT,)
)  # fmt: skip
WHY_IT = re.escape(
    "Causa: Regione Liguria (Regione) ha ridotto la linea LIG-2027-001 da € 4.500.000,00 a € 3.000.000,00. "
    "Motivo: «Assestamento di bilancio»."
).replace(r"\ ", " +", 1)
WHY_EN = re.escape(
    "Cause: Regione Liguria (Region) cut line LIG-2027-001 from €4,500,000.00 to €3,000,000.00. "
    "Reason: “Assestamento di bilancio”."
).replace(r"\ ", " +", 1)


@pytest.mark.parametrize("occurrence", [STATUS, DROP], ids=["status_changed", "funding_dropped"])
def test_the_mail_of_a_status_change_or_a_drop_says_who_which_line_and_why(occurrence: StatusChange) -> None:
    italian = render_alert(occurrence, language="it", name="Maria Rossi", event_id="e-1")
    english = render_alert(occurrence, language="en", name="John Smith", event_id="e-1")
    assert re.search(WHY_IT, italian.text) and re.search(WHY_IT, italian.section_text)
    assert re.search(WHY_EN, english.text) and re.search(WHY_EN, english.section_text)
    # First in the story: before what is missing and where to look.
    story = english.text.split("\n\n")[3]
    assert story.startswith("Cause:"), english.text
    assert "Regione Liguria (Region) cut line LIG-2027-001" in english.html
    assert "«Assestamento di bilancio»" in italian.html
    assert "Reason: “Assestamento di bilancio”" in english.html


def test_without_a_known_cause_the_mail_is_as_it_was() -> None:
    bare = dataclasses.replace(STATUS, causes=())
    for language in ("it", "en"):
        text = render_alert(bare, language=language, name="X", event_id="e-1").text  # type: ignore[arg-type]
        assert "Causa" not in text and "Cause" not in text


def test_a_mail_spells_out_the_latest_causes_and_counts_the_rest() -> None:
    causes = tuple(
        dataclasses.replace(CUT, event_id=uuid.uuid4(), line_id=f"LIG-{n}", occurred_at=AT + timedelta(seconds=n))
        for n in range(SHOWN + 3)
    )
    facts = cause_facts(causes, "en")
    assert [label for label, _ in facts] == ["Cause"] * (SHOWN + 1)
    assert [v.split(" cut line ")[1].split(" ")[0] for (v,) in [(v,) for _, v in facts[:-1]]] == [
        c.line_id for c in causes[-SHOWN:]
    ]
    assert facts[-1][1] == "and 3 more changes"
    assert cause_facts(causes[: SHOWN + 1], "it")[-1][1] == "e un'altra variazione"
    assert cause_facts(causes[:SHOWN], "en")[-1][1].startswith("Regione Liguria")
    assert cause_facts((), "it") == ()


WEBHOOK_CAUSE = {
    "event_id": str(EVENT),
    "kind": "revised",
    "institution_id": "regione-liguria",
    "institution_name": "Regione Liguria",
    "level": "REGIONE",
    "line_id": "LIG-2027-001",
    "objective_id": "miglio-blu",
    "fiscal_year": 2027,
    "before_cents": 4_500_000_00,
    "after_cents": 3_000_000_00,
    "reason": "Assestamento di bilancio",
    "occurred_at": "2027-03-01T09:29:59+00:00",
    "disbursed_delta_cents": 0,
    "counterpart_line_id": None,
}
SENT = Cause(uuid.uuid4(), "ObjectiveStatusChanged", "corr-1", AT)


@pytest.mark.parametrize("occurrence", [STATUS, DROP], ids=["status_changed", "funding_dropped"])
def test_the_webhook_of_a_status_change_or_a_drop_carries_its_causes_beside_the_objective(
    occurrence: StatusChange,
) -> None:
    body = json.loads(webhook_body(occurrence, SENT, ()))
    assert body["causes"] == [WEBHOOK_CAUSE]
    assert "causes" not in body["objective"]
    assert list(body)[-2:] == ["objective", "causes"]
    bare = json.loads(webhook_body(dataclasses.replace(occurrence, causes=()), SENT, ()))
    assert bare["causes"] == []


def test_the_state_a_new_lead_is_told_has_no_causes() -> None:
    state = CurrentState("miglio-blu", "Miglio Blu", (YearState(2027, S.AT_RISK, 6000, 500, 300),))
    body = json.loads(webhook_body(state, SENT, ()))
    assert "causes" not in body
