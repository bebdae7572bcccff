"""The year-end rules with no I/O: whose line a roll-over may extend, which line ids are
reserved, closed years, when a year has ended, and the ledger check of owners."""

from dataclasses import replace
from datetime import UTC, date, datetime
from itertools import islice

import pytest

from regia_funding.domain import replay, rules
from regia_funding.domain.batch import Accepted, Refusal, Snapshot, Submission, plan
from regia_funding.domain.commands import (
    CommitFunding,
    DisburseFunding,
    ReallocateFunding,
    ReviseFunding,
    RevokeFunding,
)
from regia_funding.domain.errors import InvalidChange, NotYours
from regia_funding.domain.line import LineStatus
from regia_shared.contracts import fiscal
from regia_shared.contracts.levels import GovernmentLevel

WINDOW = rules.Window(2025, 2031)
CLOSED = rules.Window(2026, 2032)  # after the roll-over of 2025
POR = rules.Instrument("por-fesr", "liguria", GovernmentLevel.REGIONE)
SARZANA = rules.Instrument("bilancio-sarzana", "sarzana", GovernmentLevel.COMUNE)


def commit(
    line_id: str = "L", year: int = 2025, instrument: str = "por-fesr", objective: str = "o", amount: int = 1000
) -> CommitFunding:
    return CommitFunding(
        type="commitment",
        line_id=line_id,
        instrument_id=instrument,
        objective_id=objective,
        fiscal_year=year,
        committed_cents=amount,
    )


def line(line_id: str = "L", year: int = 2025, **changes):  # type: ignore[no-untyped-def]
    opened = rules.open_line(commit(line_id, year), "liguria", None, POR, True, None, WINDOW).line
    return replace(opened, **changes)


def test_the_roll_over_extends_only_the_same_owners_open_line_for_the_same_purpose_next_year() -> None:
    source = line("L")
    own = line("L.2026", 2026)
    assert rules.extends(source, own)
    for other in (
        replace(own, institution_id="sarzana"),
        replace(own, instrument_id="bilancio"),
        replace(own, objective_id="p"),
        replace(own, fiscal_year=2027),
        replace(own, status=LineStatus.REVOKED),
        replace(own, status=LineStatus.ROLLED_OVER),
    ):
        assert not rules.extends(source, other), other
        with pytest.raises(InvalidChange):  # never a transfer, whatever the caller passes
            rules.roll_over(source, other, other.line_id, "year end")
    _, into = rules.roll_over(source, own, own.line_id, "year end")  # type: ignore[misc]
    assert (into.line.line_id, into.line.committed_cents, into.line.version) == ("L.2026", 2000, 2)


def test_roll_over_targets_try_the_usual_id_then_the_reserved_namespace() -> None:
    assert list(islice(rules.roll_over_targets("LIG-1", 2026), 3)) == [
        "LIG-1.2026",
        "rollover:2026:LIG-1",
        "rollover:2026-2:LIG-1",
    ]
    long = "x" * 100
    assert all(len(t) <= rules.MAX_LINE_ID for t in islice(rules.roll_over_targets(long, 2026), 5))
    assert rules.rolled_over_from("LIG-1.2026") == "LIG-1"
    assert rules.rolled_over_from("LIG-1.2026.2027") == "LIG-1.2026"
    assert rules.rolled_over_from("LIG-2026") is None and rules.rolled_over_from(".2026") is None


def test_a_roll_over_id_is_reserved_for_the_owner_of_its_source_line() -> None:
    rules.claimable("LIG-1.2026", "liguria", "liguria")  # its own next-year line
    rules.claimable("LIG-1.2026", "sarzana", None)  # no such source line (yet)
    with pytest.raises(NotYours) as refused:
        rules.claimable("LIG-1.2026", "sarzana", "liguria")
    assert refused.value.field == "line_id" and "LIG-1" in refused.value.message
    with pytest.raises(InvalidChange) as refused:
        rules.claimable("rollover:2026:X", "liguria", None, "to_line_id")
    assert refused.value.field == "to_line_id"
    squat = CommitFunding(
        type="commitment",
        line_id="LIG-1.2026",
        instrument_id="bilancio-sarzana",
        objective_id="o",
        fiscal_year=2026,
        committed_cents=1,
    )
    with pytest.raises(NotYours):
        rules.open_line(squat, "sarzana", None, SARZANA, True, None, WINDOW, "liguria")
    move = ReallocateFunding(
        type="reallocation", line_id="L", amount_cents=1, to_line_id="rollover:2025:L", to_objective_id="p"
    )
    with pytest.raises(InvalidChange) as refused:
        rules.reallocate(line(), None, move, "liguria", None, True, WINDOW)
    assert refused.value.field == "to_line_id"


def test_a_batch_cannot_squat_the_id_of_a_line_an_earlier_submission_opened() -> None:
    snapshot = Snapshot(WINDOW, {}, {"por-fesr": POR, "bilancio-sarzana": SARZANA}, frozenset({"o"}))
    liguria = Submission(("liguria", "k"), "f1", "liguria", None, [commit("LIG-1")])
    sarzana = Submission(
        ("sarzana", "k"), "f2", "sarzana", None, [commit("LIG-1.2026", 2026, instrument="bilancio-sarzana")]
    )
    first, second = plan([liguria, sarzana], snapshot, {})
    assert isinstance(first, Accepted) and isinstance(second, Refusal)
    assert (second.error.code, second.error.field) == ("forbidden", "line_id")
    stored = Snapshot(WINDOW, {}, snapshot.instruments, frozenset({"o"}), owners={"LIG-1": "liguria"})
    (refused,) = plan([sarzana], stored, {})
    assert isinstance(refused, Refusal) and refused.error.field == "line_id"


def test_a_closed_year_takes_no_change() -> None:
    paid = line(disbursed_cents=1000)  # fully paid: nothing rolled, still ACTIVE in 2025
    assert CLOSED.closed(2025) and not CLOSED.closed(2026)
    for change in (
        lambda: rules.revise(
            paid, ReviseFunding(type="revision", line_id="L", committed_cents=2000), "liguria", None, CLOSED
        ),
        lambda: rules.disburse(
            line(), DisburseFunding(type="disbursement", line_id="L", amount_cents=1), "liguria", None, CLOSED
        ),
        lambda: rules.revoke(paid, RevokeFunding(type="revocation", line_id="L"), "liguria", None, CLOSED),
        lambda: rules.reallocate(
            line(),
            None,
            ReallocateFunding(type="reallocation", line_id="L", amount_cents=1, to_line_id="NEW", to_objective_id="p"),
            "liguria",
            None,
            True,
            CLOSED,
        ),
    ):
        with pytest.raises(InvalidChange) as refused:
            change()
        assert refused.value.field == "line_id" and "2025 is closed" in refused.value.message
    into = ReallocateFunding(type="reallocation", line_id="N", amount_cents=1, to_line_id="L")
    with pytest.raises(InvalidChange) as refused:
        rules.reallocate(line("N", 2026), paid, into, "liguria", None, True, CLOSED)
    assert refused.value.field == "to_line_id"
    with pytest.raises(NotYours):  # another institution learns nothing of the line
        rules.revise(paid, ReviseFunding(type="revision", line_id="L", committed_cents=1), "sarzana", None, CLOSED)


def test_a_year_ends_at_midnight_in_rome() -> None:
    rules.check_year_ended(2025, date(2026, 1, 1))
    with pytest.raises(InvalidChange) as refused:
        rules.check_year_ended(2026, date(2026, 12, 31))
    assert refused.value.field == "closing_year" and "1 January 2027" in refused.value.message
    new_years_eve_utc = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January in Rome
    assert fiscal.today(now=new_years_eve_utc) == date(2027, 1, 1)
    assert fiscal.today(now=datetime(2026, 12, 31, 22, 59, tzinfo=UTC)) == date(2026, 12, 31)
    assert fiscal.today(date(2030, 5, 1), now=new_years_eve_utc) == date(2030, 5, 1)  # pinned
    assert fiscal.has_ended(2026, date(2027, 1, 1)) and not fiscal.has_ended(2026, date(2026, 12, 31))


def test_the_ledger_check_reports_money_that_changed_owner() -> None:
    owners = {
        "L": replay.Owner("liguria", "por", "o", 2025),
        "L.2026": replay.Owner("liguria", "por", "o", 2026),
        "S": replay.Owner("sarzana", "bil-s", "o", 2026),
        "B": replay.Owner("liguria", "bil", "o", 2025),
        "P": replay.Owner("liguria", "por", "p", 2026),
    }
    sound = [replay.Move(1, "ROLLOVER_OUT", "L", "L.2026", -5), replay.Move(2, "ROLLOVER_IN", "L.2026", "L", 5)]
    assert replay.owner_changes(sound, owners) == []
    bad = [
        replay.Move(3, "ROLLOVER_OUT", "L", "S", -5),
        replay.Move(4, "ROLLOVER_IN", "S", "L", 5),
        replay.Move(5, "REALLOCATION_OUT", "L", "B", -1),
        replay.Move(6, "REALLOCATION_IN", "B", "L", 1),
        replay.Move(7, "ROLLOVER_OUT", "L", "P", -2),
        replay.Move(8, "ROLLOVER_IN", "P", "L", 2),
        replay.Move(9, "REALLOCATION_IN", "L.2026", "S", 9),  # money from nowhere
    ]
    found = {c["entry_id"]: c["problem"] for c in replay.owner_changes(bad, owners, [(10, "L", "sarzana", "liguria")])}
    assert set(found) == {3, 5, 7, 9, 10}
    assert "'sarzana'" in found[3] and "instrument" in found[5] and "objective" in found[7]
    assert "balance" in found[9] and "pushed by 'sarzana'" in found[10]


def test_a_lines_cup_goes_with_its_money_into_the_next_year_but_not_to_another_objective() -> None:
    opened = rules.open_line(
        commit("L").model_copy(update={"cup": "D41B19000120007"}), "liguria", None, POR, True, None, WINDOW
    ).line
    assert opened.cup == "D41B19000120007"
    out, into = rules.roll_over(opened, None, "L.2026", "year end")  # type: ignore[misc]
    assert (out.line.cup, into.line.line_id, into.line.cup, into.line.committed_cents) == (
        "D41B19000120007",
        "L.2026",
        "D41B19000120007",
        1000,
    )
    moved = ReallocateFunding(type="reallocation", line_id="L", amount_cents=400, to_line_id="M", to_objective_id="p")
    source, target = rules.reallocate(opened, None, moved, "liguria", None, True, WINDOW)
    assert (source.line.cup, target.line.objective_id, target.line.cup) == ("D41B19000120007", "p", None)
