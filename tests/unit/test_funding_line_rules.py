"""The rules of changing funding lines, with no I/O."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regia_funding.domain import replay, rules
from regia_funding.domain.commands import (
    CommitFunding,
    DisburseFunding,
    ReallocateFunding,
    ReviseFunding,
    RevokeFunding,
)
from regia_funding.domain.errors import (
    InvalidChange,
    LineAlreadyExists,
    NoSuchMoney,
    NotYours,
    StaleVersion,
    UnknownReference,
)
from regia_funding.domain.line import EntryKind, LineStatus
from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.contracts.money import format_euro

WINDOW = rules.Window(2025, 2031)
POR = rules.Instrument("por-fesr", "liguria", GovernmentLevel.REGIONE)


def commit(amount: int = 1000, **changes):  # type: ignore[no-untyped-def]
    fields = {
        "type": "commitment",
        "line_id": "L1",
        "instrument_id": "por-fesr",
        "objective_id": "o",
        "fiscal_year": 2027,
        "committed_cents": amount,
        **changes,
    }
    return CommitFunding(**fields)


def opened(amount: int = 1000):  # type: ignore[no-untyped-def]
    return rules.open_line(commit(amount), "liguria", None, POR, True, None, WINDOW).line


def test_a_commitment_opens_a_line_at_version_one_at_its_instruments_level() -> None:
    entry = rules.open_line(commit(), "liguria", None, POR, True, None, WINDOW)
    assert entry.kind is EntryKind.COMMITMENT and entry.committed_delta_cents == 1000
    assert entry.line.version == 1 and entry.line.level is GovernmentLevel.REGIONE


def test_a_commitment_needs_a_known_instrument_of_its_own_a_known_objective_and_an_open_year() -> None:
    with pytest.raises(UnknownReference) as refused:
        rules.open_line(commit(), "liguria", None, None, True, None, WINDOW)
    assert refused.value.field == "instrument_id"
    with pytest.raises(NotYours):
        rules.open_line(commit(), "comune", None, POR, True, None, WINDOW)
    with pytest.raises(NotYours):
        rules.open_line(commit(), "liguria", {"other"}, POR, True, None, WINDOW)
    with pytest.raises(UnknownReference) as refused:
        rules.open_line(commit(), "liguria", None, POR, False, None, WINDOW)
    assert refused.value.field == "objective_id"
    with pytest.raises(InvalidChange) as refused:
        rules.open_line(commit(fiscal_year=2040), "liguria", None, POR, True, None, WINDOW)
    assert refused.value.field == "fiscal_year"
    with pytest.raises(LineAlreadyExists):
        rules.open_line(commit(), "liguria", None, POR, True, opened(), WINDOW)


def test_revision_disbursement_and_revocation() -> None:
    line = opened()
    revised = rules.revise(
        line, ReviseFunding(type="revision", line_id="L1", committed_cents=400), "liguria", None, WINDOW
    )
    assert (revised.committed_delta_cents, revised.line.committed_cents, revised.line.version) == (-600, 400, 2)
    paid = rules.disburse(
        revised.line, DisburseFunding(type="disbursement", line_id="L1", amount_cents=300), "liguria", None, WINDOW
    )
    assert (paid.line.disbursed_cents, paid.disbursed_delta_cents, paid.line.version) == (300, 300, 3)
    with pytest.raises(NoSuchMoney) as refused:
        rules.disburse(
            paid.line, DisburseFunding(type="disbursement", line_id="L1", amount_cents=101), "liguria", None, WINDOW
        )
    assert refused.value.field == "amount_cents"
    with pytest.raises(NoSuchMoney):
        rules.revise(
            paid.line, ReviseFunding(type="revision", line_id="L1", committed_cents=299), "liguria", None, WINDOW
        )
    revoked = rules.revoke(paid.line, RevokeFunding(type="revocation", line_id="L1"), "liguria", None, WINDOW)
    assert (revoked.line.committed_cents, revoked.line.disbursed_cents) == (300, 300)  # paid stays paid
    assert revoked.line.status is LineStatus.REVOKED
    with pytest.raises(InvalidChange):
        rules.revise(
            revoked.line, ReviseFunding(type="revision", line_id="L1", committed_cents=500), "liguria", None, WINDOW
        )


def test_only_the_owner_within_its_scope_and_at_the_expected_version_changes_a_line() -> None:
    line = opened()
    revoke = RevokeFunding(type="revocation", line_id="L1")
    with pytest.raises(NotYours):
        rules.revoke(line, revoke, "comune", None, WINDOW)
    with pytest.raises(NotYours):
        rules.revoke(line, revoke, "liguria", {"bilancio"}, WINDOW)
    with pytest.raises(StaleVersion):
        rules.revise(
            line,
            ReviseFunding(type="revision", line_id="L1", committed_cents=1, expected_version=5),
            "liguria",
            None,
            WINDOW,
        )


def test_reallocation_moves_only_money_that_exists_to_a_line_of_the_same_instrument_and_year() -> None:
    source = opened(1000)
    move = ReallocateFunding(type="reallocation", line_id="L1", amount_cents=400, to_line_id="L2", to_objective_id="p")
    out, into = rules.reallocate(source, None, move, "liguria", None, True, WINDOW)
    assert (out.line.committed_cents, into.line.committed_cents) == (600, 400)
    assert (into.line.objective_id, into.line.version, into.line.instrument_id) == ("p", 1, "por-fesr")
    assert out.counterpart_line_id == "L2" and into.counterpart_line_id == "L1"
    with pytest.raises(NoSuchMoney):
        rules.reallocate(source, None, move.model_copy(update={"amount_cents": 1001}), "liguria", None, True, WINDOW)
    with pytest.raises(UnknownReference):
        rules.reallocate(source, None, move, "liguria", None, False, WINDOW)
    other_year = rules.open_line(commit(line_id="L3", fiscal_year=2028), "liguria", None, POR, True, None, WINDOW).line
    with pytest.raises(InvalidChange):
        rules.reallocate(
            source,
            other_year,
            move.model_copy(update={"to_line_id": "L3", "to_objective_id": None}),
            "liguria",
            None,
            True,
            WINDOW,
        )


def test_roll_over_moves_the_undisbursed_rest_to_next_year() -> None:
    line = rules.disburse(
        opened(1000), DisburseFunding(type="disbursement", line_id="L1", amount_cents=250), "liguria", None, WINDOW
    ).line
    out, into = rules.roll_over(line, None, "L1.2028", "year end")  # type: ignore[misc]
    assert (out.line.committed_cents, out.line.disbursed_cents, out.line.status) == (250, 250, LineStatus.ROLLED_OVER)
    assert (into.line.line_id, into.line.fiscal_year, into.line.committed_cents, into.line.version) == (
        "L1.2028",
        2028,
        750,
        1,
    )
    assert rules.roll_over(out.line, None, "x", "again") is None


@given(st.lists(st.tuples(st.sampled_from(["rev", "pay", "move"]), st.integers(0, 2000)), max_size=30))
def test_money_is_conserved_and_the_ledger_rebuilds_every_line(steps: list[tuple[str, int]]) -> None:
    lines = {"L1": opened(1000)}
    entries = [("L1", 1, 1000, 0)]
    for kind, amount in steps:
        line = lines["L1"]
        try:
            if kind == "rev":
                made = [
                    rules.revise(
                        line,
                        ReviseFunding(type="revision", line_id="L1", committed_cents=amount),
                        "liguria",
                        None,
                        WINDOW,
                    )
                ]
            elif kind == "pay":
                made = [
                    rules.disburse(
                        line,
                        DisburseFunding(type="disbursement", line_id="L1", amount_cents=max(amount, 1)),
                        "liguria",
                        None,
                        WINDOW,
                    )
                ]
            else:
                made = list(
                    rules.reallocate(
                        line,
                        lines.get("L2"),
                        ReallocateFunding(
                            type="reallocation",
                            line_id="L1",
                            amount_cents=max(amount, 1),
                            to_line_id="L2",
                            to_objective_id="p",
                        ),
                        "liguria",
                        None,
                        True,
                        WINDOW,
                    )
                )
        except (NoSuchMoney, InvalidChange):
            continue
        for entry in made:
            lines[entry.line.line_id] = entry.line
            entries.append(
                (entry.line.line_id, entry.line.version, entry.committed_delta_cents, entry.disbursed_delta_cents)
            )
    for line in lines.values():
        assert 0 <= line.disbursed_cents <= line.committed_cents
    held = {lid: (ln.committed_cents, ln.disbursed_cents, ln.version) for lid, ln in lines.items()}
    assert replay.differences(replay.fold(entries), held) == []


def test_non_euro_and_fractional_amounts_are_refused_by_the_command() -> None:
    with pytest.raises(ValueError, match="currency"):
        commit(currency="USD")
    with pytest.raises(ValueError):
        commit(amount=10.5)


def test_euro_formatting() -> None:
    assert format_euro(123456789) == "€ 1.234.567,89"
    assert format_euro(5) == "€ 0,05"
    assert format_euro(-100) == "-€ 1,00"
