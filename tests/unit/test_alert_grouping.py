"""One message per cause and person: when a person's waiting alerts go (the grouping
window, the longest wait, a cause never split while it goes on) and what the message says
(the net change of each objective-year, first state to last). Pure."""

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regia_notifier.domain.causes import FundingCause
from regia_notifier.domain.grouping import GroupingPolicy, OpenGroup, Pending, due_now, fold
from regia_notifier.domain.messages import Carried, render_message
from regia_notifier.domain.occurrence_codec import decode, encode
from regia_notifier.domain.occurrences import FundingDrop, LineRevoked, PlanNode, StatusChange
from regia_shared.contracts.events.objectives import CoverageStatus as S

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
POLICY = GroupingPolicy(wait=timedelta(seconds=30), longest=timedelta(minutes=10))
PATH = (PlanNode("mare", "Economia del mare", "VISION"), PlanNode("miglio-blu", "Miglio Blu", "OBJECTIVE"))
URL = "https://regia.example/objectives/miglio-blu"
CUT = FundingDrop(
    "miglio-blu", "Miglio Blu", 2027, 450_000_000, 300_000_000, 500_000_000, 6000, S.AT_RISK, 80,
    {"REGIONE": 300_000_000}, PATH, URL,
)  # fmt: skip
AT_RISK = StatusChange(
    "miglio-blu", "Miglio Blu", 2027, S.PARTIALLY_FUNDED, S.AT_RISK, 6000, 500_000_000, 300_000_000, 80,
    {"REGIONE": 300_000_000}, PATH, URL,
)  # fmt: skip
REVISION = FundingCause(
    uuid.UUID(int=1), "revised", "regione-liguria", "Regione Liguria", "REGIONE", "LIG-2027-001", "miglio-blu", 2027,
    450_000_000, 300_000_000, "Assestamento di bilancio", T0,
)  # fmt: skip
CAUSE = "Regione Liguria (Regione) ha ridotto la linea LIG-2027-001 da € 4.500.000,00 a € 3.000.000,00."


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_person_s_alerts_go_once_none_came_for_the_window() -> None:
    pending = [Pending("cut", at(0)), Pending("cut", at(0.2)), Pending("other", at(10))]
    assert due_now(pending, POLICY, at(39)) == []
    assert due_now(pending, POLICY, at(40)) == [0, 1, 2]
    assert OpenGroup("a@x.it", at(0), at(10), at(0.2)).next_look(POLICY) == at(40)


def test_past_the_longest_wait_the_quiet_causes_go_and_a_cause_still_going_stays_whole() -> None:
    # A bulk import (one correlation id) keeps producing; a cut happened at its start.
    pending = [Pending("cut", at(0))] + [Pending("import", at(s)) for s in range(0, 601, 10)]
    assert due_now(pending, POLICY, at(599)) == []
    assert due_now(pending, POLICY, at(600)) == [0]
    # Then the next look is when the import goes quiet, not at once again and again: the
    # cut has gone, what waits is the import's, its last alert at 600 s.
    assert OpenGroup("a@x.it", at(0), at(600), at(600)).next_look(POLICY) == at(630)
    assert OpenGroup("a@x.it", at(0), at(600), at(0)).next_look(POLICY) == at(600)


def test_a_window_of_zero_sends_at_once() -> None:
    assert due_now([Pending("a", at(0))], GroupingPolicy(timedelta(0), timedelta(minutes=10)), at(0)) == [0]


def test_the_window_cannot_be_longer_than_the_longest_wait() -> None:
    with pytest.raises(ValueError):
        GroupingPolicy(timedelta(seconds=60), timedelta(seconds=30))


@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 2000)), min_size=1, max_size=30), st.integers(0, 3000))
def test_a_cause_is_never_split_while_it_goes_on_and_nothing_waits_past_its_turn(
    arrivals: list[tuple[str, int]], now_s: int
) -> None:
    pending = [Pending(cause, at(s)) for cause, s in sorted(arrivals, key=lambda a: a[1]) if s <= now_s]
    due = set(due_now(pending, POLICY, at(now_s)))
    for cause in {p.correlation_id for p in pending}:
        mine = {i for i, p in enumerate(pending) if p.correlation_id == cause}
        assert mine <= due or not (mine & due)  # all of a cause's waiting alerts, or none
    if pending and max(p.queued_at for p in pending) + POLICY.wait <= at(now_s):
        assert due == set(range(len(pending)))
    # What stays waits for a later look, never one due now (the job would spin).
    rest = [p for i, p in enumerate(pending) if i not in due]
    if rest:
        lasts = {c: max(p.queued_at for p in rest if p.correlation_id == c) for c in {p.correlation_id for p in rest}}
        group = OpenGroup("a", min(p.queued_at for p in rest), max(lasts.values()), min(lasts.values()))
        assert group.next_look(POLICY) > at(now_s)


def test_a_cut_that_moved_the_status_is_one_change_from_the_first_state_to_the_last() -> None:
    for order in ([CUT, AT_RISK], [AT_RISK, CUT]):
        [change] = fold(order).changes
        assert (change.previous, change.status) == (S.PARTIALLY_FUNDED, S.AT_RISK)
        assert (change.committed_before, change.committed, change.drop_bp) == (450_000_000, 300_000_000, 3333)
        assert change.gap is not None and (change.gap.to_threshold_cents, change.gap.to_full_cents) == (
            100_000_000,
            200_000_000,
        )


def test_a_cut_undone_within_the_window_is_no_change_and_no_message() -> None:
    restored = StatusChange(
        "miglio-blu", "Miglio Blu", 2027, S.AT_RISK, S.PARTIALLY_FUNDED, 9000, 500_000_000, 450_000_000, 80
    )
    folded = fold([CUT, AT_RISK, restored])
    assert folded.changes == [] and folded.settled == 1
    carried = [Carried(o, str(uuid.uuid4()), "c") for o in (CUT, AT_RISK, restored)]
    assert render_message(carried, language="it", name="Anna") is None


def test_the_quick_start_cut_is_one_message_that_tells_who_why_and_what_is_missing() -> None:
    # The drop was planned before the funding event reached the notifier: no cause yet;
    # the status change after, with it. The message has it once, first.
    carried = [
        Carried(CUT, str(uuid.uuid4()), "corr-cut"),
        Carried(dataclasses.replace(AT_RISK, causes=(REVISION,)), str(uuid.uuid4()), "corr-cut"),
    ]
    it = render_message(carried, language="it", name="Anna Bianchi")
    assert it is not None
    assert it.subject == "[Regia] Miglio Blu 2027: A RISCHIO, finanziamento in calo del 33,33 %"
    intro = it.text.split("\n\n")[1]
    assert intro.startswith(CAUSE) and "Assestamento di bilancio" in intro and it.text.count(CAUSE) == 1
    assert CAUSE in it.html
    assert "PARZIALMENTE FINANZIATO → A RISCHIO" in it.text
    assert "€ 4.500.000,00 → € 3.000.000,00 (−€ 1.500.000,00, −33,33 %)" in it.text
    assert "€ 1.000.000,00 per la soglia (80 %), € 2.000.000,00 per il 100 %" in it.text
    assert "Economia del mare › Miglio Blu" in it.text and URL in it.text and f'href="{URL}"' in it.html
    en = render_message(carried, language="en", name="Anna Bianchi")
    assert en is not None and en.subject == "[Regia] Miglio Blu 2027: at risk, funding down 33.33%"
    assert "Regione Liguria (Region) cut line LIG-2027-001" in en.text
    assert "€1,000,000.00 to 80%, €2,000,000.00 to 100%" in en.text


def test_several_objectives_and_other_alerts_make_one_summary_worst_first() -> None:
    programme = dataclasses.replace(
        AT_RISK, objective_id="porto", title="Porto", previous_status=S.AT_RISK, status=S.PARTIALLY_FUNDED
    )
    revoked = LineRevoked("L-9", "porto", "Porto", "stato", "Stato", 2027, 100_000_000, "Definanziamento")
    cut = dataclasses.replace(CUT, causes=(REVISION,))
    carried = [Carried(o, str(uuid.uuid4()), "corr") for o in (programme, cut, AT_RISK, revoked)]
    it = render_message(carried, language="it", name="Anna")
    assert it is not None and it.subject == "[Regia] 3 avvisi"
    body = it.text.split("-- \n")[0]
    assert body.count(CAUSE) == 1
    assert body.index("Miglio Blu 2027: A RISCHIO") < body.index("Porto 2027: PARZIALMENTE FINANZIATO")
    assert body.index("Porto 2027: PARZIALMENTE") < body.index("Linea L-9 revocata")
    assert it.html.count("<section>") == 3
    # A section says what it means, as the alert alone would have in its intro.
    assert "Linea L-9 revocata: Porto\nÈ stata revocata una linea di finanziamento." in body
    assert "<p>È stata revocata una linea di finanziamento.</p>" in it.html


def test_a_bulk_change_of_many_objectives_lists_the_rest_on_a_line_each() -> None:
    many = [
        dataclasses.replace(AT_RISK, objective_id=f"o-{i}", title=f"Obiettivo {i}", console_url=f"{URL}-{i}")
        for i in range(40)
    ]
    message = render_message([Carried(o, str(i), "import") for i, o in enumerate(many)], language="en", name="A")
    assert message is not None and message.subject == "[Regia] 40 objectives changed"
    assert message.html.count("<section>") == 26  # 25 in full, then one listing the other 15
    assert all(f"Obiettivo {i} 2027" in message.text for i in range(40)) and f"{URL}-39" in message.text


def test_an_occurrence_waits_as_json_and_comes_back_whole_causes_and_all() -> None:
    with_cause = dataclasses.replace(AT_RISK, causes=(REVISION,))
    assert decode(json.loads(json.dumps(encode(with_cause)))) == with_cause
    assert decode(None) is None and decode({"kind": "SomethingNewer", "facts": {}}) is None
