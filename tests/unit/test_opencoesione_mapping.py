"""From a valid OpenCoesione row to funding events: one line per funded level, payments
spread to the cent, requests grouped per institution in the funding API's wire format."""

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from regia.operator.opencoesione.allocation import split_proportionally
from regia.operator.opencoesione.config import ConfigError, parse_level_option, parse_objective_map
from regia.operator.opencoesione.mapping import ImportMapping, InstitutionRequest, Target, line_id_for, plan_row
from regia.operator.opencoesione.reader import ProjectFinancing, RejectedRow, read_projects
from regia_funding.domain.commands import FundingCommand
from regia_shared.contracts.levels import GovernmentLevel as L

FIXTURES = Path(__file__).parent.parent / "fixtures" / "opencoesione"
COMMANDS = TypeAdapter(FundingCommand)
TARGETS = {
    L.EU: Target("regione-liguria", "por-fesr-liguria"),
    L.STATO: Target("stato-mef", "fondo-rotazione"),
    L.REGIONE: Target("regione-liguria", "bilancio-regionale"),
    L.PROVINCIA: Target("provincia-spezia", "bilancio-provinciale"),
    L.COMUNE: Target("comune-spezia", "bilancio-comunale"),
    L.PRIVATE: Target("cantieri-spezia", "cofinanziamento-privato"),
    L.OTHER_PUBLIC: Target("autorita-portuale", "fondi-propri"),
    L.FOREIGN_STATE: Target("stato-francese", "interreg-contributo"),
}
COLUMN_OF = {
    L.EU: "FINANZ_UE",
    L.STATO: "FINANZ_STATO_FSC",
    L.REGIONE: "FINANZ_REGIONE",
    L.PROVINCIA: "FINANZ_PROVINCIA",
    L.COMUNE: "FINANZ_COMUNE",
    L.PRIVATE: "FINANZ_PRIVATO",
    L.OTHER_PUBLIC: "FINANZ_ALTRO_PUBBLICO",
    L.FOREIGN_STATE: "FINANZ_STATO_ESTERO",
}


def project(by_level: dict, payments: int = 0, code: str = "1LIFESR-0007") -> ProjectFinancing:
    levels = {lv: by_level.get(lv, 0) for lv in L}
    public = sum(v for lv, v in levels.items() if lv is not L.PRIVATE)
    by_column = {COLUMN_OF[lv]: cents for lv, cents in levels.items()}
    return ProjectFinancing(2, code, "D41B19000120007", "MIGLIO BLU", levels, 0, 0, public, 0, payments, by_column)


def mapping(**kwargs) -> ImportMapping:  # type: ignore[no-untyped-def]
    return ImportMapping(kwargs.pop("targets", TARGETS), 2027, **({"objective_id": "miglio-blu"} | kwargs))


def events_of(requests: list[InstitutionRequest]) -> dict[str, list[dict]]:
    return {r.institution_id: r.events for r in requests}


def test_each_funded_level_commits_its_line_and_payments_are_spread_exactly() -> None:
    row = project(
        {L.EU: 150_000_000, L.STATO: 105_000_000, L.REGIONE: 45_000_000, L.COMUNE: 30_000_000}, payments=123_456_789
    )
    requests = plan_row(row, mapping())
    assert isinstance(requests, list)
    by_institution = events_of(requests)
    assert list(by_institution) == ["regione-liguria", "stato-mef", "comune-spezia"]
    regione = by_institution["regione-liguria"]  # EU and REGIONE both recorded by the Regione
    assert [(e["type"], e["line_id"]) for e in regione] == [
        ("commitment", "OC-1LIFESR-0007-EU-2027"),
        ("commitment", "OC-1LIFESR-0007-REGIONE-2027"),
        ("disbursement", "OC-1LIFESR-0007-EU-2027"),
        ("disbursement", "OC-1LIFESR-0007-REGIONE-2027"),
    ]
    assert regione[0] | {"reason": None} == {
        "type": "commitment",
        "line_id": "OC-1LIFESR-0007-EU-2027",
        "instrument_id": "por-fesr-liguria",
        "objective_id": "miglio-blu",
        "fiscal_year": 2027,
        "committed_cents": 150_000_000,
        "reason": None,
        "cup": "D41B19000120007",
        "source_ref": "1LIFESR-0007",  # the project's code, which people search a line by
    }
    paid = [e["amount_cents"] for events in by_institution.values() for e in events if e["type"] == "disbursement"]
    assert sum(paid) == 123_456_789
    assert [r.levels for r in requests] == [(L.EU, L.REGIONE), (L.STATO,), (L.COMUNE,)]


@pytest.mark.parametrize(
    ("cup", "sent"),
    [("D41B19000120007", "D41B19000120007"), ("d41b19000120007", "D41B19000120007"), ("", None), ("N.D.", None)],
)
def test_a_commitment_carries_the_rows_cup_only_when_it_is_one(cup: str, sent: str | None) -> None:
    from dataclasses import replace

    requests = plan_row(replace(project({L.COMUNE: 30_000_000}), cup=cup), mapping())
    assert isinstance(requests, list)
    (commitment,) = requests[0].events
    assert commitment.get("cup") == sent
    assert ("cup" in commitment) is (sent is not None)  # no CUP: the same events (and key) as before
    assert COMMANDS.validate_python(commitment).cup == sent  # type: ignore[union-attr]


def test_every_event_is_valid_in_the_funding_api_wire_format() -> None:
    with (FIXTURES / "progetti_good.csv").open(encoding="utf-8-sig", newline="") as stream:
        rows = list(read_projects(stream))
    with (FIXTURES / "objective_map.csv").open(encoding="utf-8-sig", newline="") as stream:
        objectives = parse_objective_map(stream)
    plans = [plan_row(row, mapping(objective_id=None, objectives_by_project=objectives)) for row in rows]
    assert all(isinstance(p, list) for p in plans), plans
    for requests in plans:
        for request in requests:
            for event in request.events:
                COMMANDS.validate_python(event)  # raises on any field the API would refuse
            assert request.body("import:opencoesione")["institution_id"] == request.institution_id


def test_a_funded_level_without_an_institution_rejects_the_row() -> None:
    targets = {lv: t for lv, t in TARGETS.items() if lv is not L.PROVINCIA}
    rejected = plan_row(project({L.EU: 100, L.PROVINCIA: 50}), mapping(targets=targets))
    assert isinstance(rejected, RejectedRow)
    assert "FINANZ_PROVINCIA is € 0,50, but no institution is configured for level PROVINCIA" in rejected.reasons[0]
    assert "--level PROVINCIA=INSTITUTION:INSTRUMENT" in rejected.reasons[0]


def test_payments_beyond_the_lines_opened_reject_the_row() -> None:
    row = project({L.COMUNE: 1_000}, payments=1_001)
    rejected = plan_row(row, mapping())
    assert isinstance(rejected, RejectedRow) and "exceeds the € 10,00 committed" in rejected.reasons[0]


def test_a_project_without_objective_or_funding_is_rejected() -> None:
    rejected = plan_row(project({L.EU: 100}, code="ALTRO"), mapping(objective_id=None, objectives_by_project={}))
    assert isinstance(rejected, RejectedRow)
    assert rejected.reasons == ["the objective map has no objective for project ALTRO"]
    assert "every FINANZ_* column is zero" in plan_row(project({}), mapping()).reasons[0]  # type: ignore[union-attr]


def test_line_ids_are_valid_and_distinct_even_for_awkward_codes() -> None:
    assert line_id_for("1LIFESR-0007", L.EU, 2027) == "OC-1LIFESR-0007-EU-2027"
    spaced, underscored = line_id_for("10LISP CANTIERI 3", L.EU, 2027), line_id_for("10LISP_CANTIERI_3", L.EU, 2027)
    assert spaced != underscored and spaced.startswith("OC-10LISP_CANTIERI_3-") and spaced.endswith("-EU-2027")
    long_code = "X" * 150
    assert len(line_id_for(long_code, L.PROVINCIA, 2027)) <= 100
    assert line_id_for(long_code, L.PROVINCIA, 2027) != line_id_for(long_code + "Y", L.PROVINCIA, 2027)
    for event in plan_row(project({L.EU: 5}, code="àèì / 2014"), mapping())[0].events:  # type: ignore[index]
        COMMANDS.validate_python(event)


def test_the_idempotency_key_is_stable_and_changes_with_the_events() -> None:
    first = plan_row(project({L.COMUNE: 1_000}, payments=10), mapping())[0]  # type: ignore[index]
    again = plan_row(project({L.COMUNE: 1_000}, payments=10), mapping())[0]  # type: ignore[index]
    later = plan_row(project({L.COMUNE: 1_000}, payments=20), mapping())[0]  # type: ignore[index]
    assert first.idempotency_key == again.idempotency_key != later.idempotency_key
    assert first.idempotency_key.startswith("oc-1LIFESR-0007-COMUNE-")
    assert len(first.idempotency_key) <= 200 and first.idempotency_key.isascii()


@given(
    total=st.integers(0, 10**14),
    weights=st.lists(st.integers(0, 10**13), min_size=1, max_size=8).filter(lambda w: sum(w) > 0),
)
def test_largest_remainder_adds_up_exactly_and_stays_within_a_cent(total: int, weights: list[int]) -> None:
    shares = split_proportionally(total, weights)
    whole = sum(weights)
    assert sum(shares) == total
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share * whole - total * weight) < whole  # within one cent of the exact quota
        if weight == 0:
            assert share == 0
        if total <= whole:
            assert share <= weight  # a line is never paid more than it commits


def test_splitting_refuses_what_cannot_be_split() -> None:
    assert split_proportionally(0, [0, 0]) == [0, 0]
    assert split_proportionally(3, [1, 1, 1, 0]) == [1, 1, 1, 0]
    assert split_proportionally(2, [1, 1, 1]) == [1, 1, 0]  # ties go to the earlier line
    with pytest.raises(ValueError):
        split_proportionally(1, [0, 0])
    with pytest.raises(ValueError):
        split_proportionally(-1, [1])


def test_level_options_and_objective_maps_are_checked() -> None:
    assert parse_level_option("REGIONE=regione-liguria:por-fesr-liguria") == (
        L.REGIONE,
        Target("regione-liguria", "por-fesr-liguria"),
    )
    assert parse_level_option("ue=regione-liguria:por-fesr")[0] is L.EU
    for bad, words in [
        ("REGIONE=regione-liguria", "LEVEL=INSTITUTION:INSTRUMENT"),
        ("CITTA=comune:bilancio", "not a level"),
        ("EU=bad id:x", "the institution id"),
    ]:
        with pytest.raises(ConfigError, match=words):
            parse_level_option(bad)
    assert parse_objective_map(io.StringIO("project;objective_id\nP1;miglio-blu\n\nP2;mare\n")) == {
        "P1": "miglio-blu",
        "P2": "mare",
    }
    for bad, words in [
        ("P1;miglio-blu;x\n", "line 1: expected"),
        ("P1;miglio blu\n", "objective id"),
        ("P1;a\nP1;b\n", "line 2: project P1 is mapped both"),
    ]:
        with pytest.raises(ConfigError, match=words):
            parse_objective_map(io.StringIO(bad))
    with pytest.raises(ValueError):
        ImportMapping(TARGETS, 2027)  # neither one objective nor a map


def _first_row_of_the_published_file() -> ProjectFinancing:
    with (FIXTURES / "progetti_good.csv").open(encoding="utf-8-sig", newline="") as stream:
        row = next(iter(read_projects(stream)))
    assert isinstance(row, ProjectFinancing)
    return row


def test_a_rows_keys_are_pinned_so_a_rerun_of_the_same_file_replays() -> None:
    # Pinned: a change to what a row sends changes its keys, and a file imported before the
    # change then meets its own lines instead of replaying (docs/operations.md says so for
    # the one such change so far, the source fields of issue 19).
    targets = {lv: TARGETS[lv] for lv in (L.EU, L.STATO, L.REGIONE)} | {L.COMUNE: Target("comune-spezia", "bilancio")}
    requests = plan_row(_first_row_of_the_published_file(), mapping(targets=targets))
    assert isinstance(requests, list)
    assert [r.idempotency_key for r in requests] == [
        "oc-1LIFESR-4.1.1-0007-EU+REGIONE-7d2c1302371fed68838b737ac984e622",
        "oc-1LIFESR-4.1.1-0007-STATO-1dcf241e7a7babb51fe7fbcdb193e4e7",
        "oc-1LIFESR-4.1.1-0007-COMUNE-d4dfb109afd8f3c7696cd62c3d4e4f87",
    ]
    # What each submission records, per source column, for the run's tally.
    paid = sum(e["amount_cents"] for e in requests[0].events if e["type"] == "disbursement")
    assert requests[0].tally == {"FINANZ_UE": 150_000_000, "FINANZ_REGIONE": 45_000_000, "TOT_PAGAMENTI": paid}
    assert sum(r.tally["TOT_PAGAMENTI"] for r in requests) == 123_456_789


def test_every_column_opens_a_line_at_its_level_and_the_operator_may_move_one() -> None:
    row = project({L.EU: 1_000, L.OTHER_PUBLIC: 500, L.FOREIGN_STATE: 250}, payments=700)
    requests = plan_row(row, mapping())
    assert isinstance(requests, list)
    lines = [e["line_id"] for r in requests for e in r.events if e["type"] == "commitment"]
    assert lines == [
        "OC-1LIFESR-0007-EU-2027",
        "OC-1LIFESR-0007-OTHER_PUBLIC-2027",
        "OC-1LIFESR-0007-FOREIGN_STATE-2027",
    ]
    assert sum(e.get("amount_cents", 0) for r in requests for e in r.events) == 700
    moved = plan_row(row, mapping(columns={"FINANZ_ALTRO_PUBBLICO": L.EU}))
    assert isinstance(moved, list)
    assert moved[0].events[0]["committed_cents"] == 1_500 and moved[0].tally["FINANZ_ALTRO_PUBBLICO"] == 500


def test_source_fields_go_on_the_commitment_and_the_payment() -> None:
    row = _first_row_of_the_published_file()
    on = plan_row(row, mapping())
    assert isinstance(on, list)
    commitment, payment = on[0].events[0], on[0].events[-1]
    assert commitment["source_ref"] == "1LIFESR-4.1.1-0007" and commitment["act_date"] == "2019-03-01"
    assert payment["type"] == "disbursement" and "act_date" not in payment  # the fixture has no DATA_AGGIORNAMENTO


@pytest.mark.parametrize("cell", ["2019-03-01", "1/3/2019", "20190230", "2019030", "19850101"])
def test_a_date_not_written_yyyymmdd_rejects_the_row_with_its_reason(cell: str) -> None:
    from regia.operator.opencoesione.reader import parse_date

    with pytest.raises(ValueError, match="YYYYMMDD|calendar|outside"):
        parse_date(cell)
