"""History (issue 19): money of closed fiscal years, recorded by an administrator's import on
a `history` channel. Pure rules, no I/O: decided through domain.batch.plan, as every way in
decides them."""

from pydantic import TypeAdapter

from regia_funding.domain import rules
from regia_funding.domain.batch import Accepted, Refusal, Snapshot, Submission, plan
from regia_funding.domain.commands import FundingCommand
from regia_funding.domain.errors import BatchRefused, InvalidChange, NotYours
from regia_funding.domain.line import FundingLine, LineStatus
from regia_funding.entrypoints.events_http import IMPORT_CHANNEL, Import
from regia_shared.contracts.levels import GovernmentLevel

COMMAND = TypeAdapter(FundingCommand)
WINDOW = rules.Window(2025, 2031)
POR = rules.Instrument("por-fesr", "liguria", GovernmentLevel.REGIONE)


def cmd(**fields):  # type: ignore[no-untyped-def]
    return COMMAND.validate_python(fields)


def commit(line: str = "H1", year: int = 2012, amount: int = 1000):  # type: ignore[no-untyped-def]
    return cmd(
        type="commitment", line_id=line, instrument_id="por-fesr", objective_id="o1", fiscal_year=year,
        committed_cents=amount,
    )  # fmt: skip


def decide(*commands, history: bool = True, on_behalf: bool = True, lines=None):  # type: ignore[no-untyped-def]
    submission = Submission(
        ("liguria", "batch", "k"), "f", "liguria", None, list(commands), True, history=history, on_behalf=on_behalf
    )
    snapshot = Snapshot(WINDOW, dict(lines or {}), {"por-fesr": POR}, frozenset({"o1"}))
    return plan([submission], snapshot, {})[0]


def refusal_of(decision) -> dict:  # type: ignore[no-untyped-def]
    """The one refusal of a decision, as the answer's details say it: error, field, message."""
    assert isinstance(decision, Refusal), decision
    error = decision.error
    if isinstance(error, BatchRefused):
        assert len(error.details) == 1
        return error.details[0]
    return {"error": error.code, "field": error.field, "message": error.message}


def history_line(**changes) -> FundingLine:  # type: ignore[no-untyped-def]
    fields = {
        "line_id": "H1", "institution_id": "liguria", "instrument_id": "por-fesr", "level": GovernmentLevel.REGIONE,
        "objective_id": "o1", "fiscal_year": 2012, "committed_cents": 1000, "disbursed_cents": 0, "version": 1,
        "status": LineStatus.ACTIVE, "history": True, **changes,
    }  # fmt: skip
    return FundingLine(**fields)


def test_the_import_channel_takes_import_and_history_with_or_without_a_source() -> None:
    for channel in ("import", "import:opencoesione", "history", "history:por-fesr-2007-2013"):
        assert Import(institution_id="x", channel=channel, events=[commit()]).channel == channel
    assert IMPORT_CHANNEL.startswith("^(import|history)")
    assert rules.is_history("history") and rules.is_history("history:x")
    assert not rules.is_history("import:history") and not rules.is_history("historyx") and not rules.is_history("http")


def test_a_history_commitment_opens_a_history_line_in_a_closed_year() -> None:
    decision = decide(commit(year=2012), commit("H2", year=2024))
    assert isinstance(decision, Accepted)
    assert [e[0].line.history for e in decision.entries] == [True, True]
    assert [e[0].line.fiscal_year for e in decision.entries] == [2012, 2024]


def test_a_history_channel_is_refused_for_an_open_year_naming_fiscal_year_and_the_import_channel() -> None:
    for year in (2025, 2031, 2040):
        error = refusal_of(decide(commit(year=year)))
        assert error["error"] == InvalidChange.code and error["field"] == "fiscal_year"
        assert f"fiscal_year {year}" in error["message"] and "use an import channel" in error["message"]


def test_the_window_rules_for_other_channels_are_unchanged() -> None:
    error = refusal_of(decide(commit(year=2012), history=False))
    assert error["field"] == "fiscal_year" and "outside the budget window 2025..2031" in error["message"]
    opened = decide(commit(year=2027), history=False)
    assert isinstance(opened, Accepted) and not opened.entries[0][0].line.history


def test_an_institutions_own_key_never_writes_history() -> None:
    error = refusal_of(decide(commit(year=2012), on_behalf=False))
    assert error["error"] == NotYours.code and error["field"] == "channel"


def test_a_later_history_import_revises_and_disburses_a_history_line() -> None:
    line = history_line()
    decision = decide(
        cmd(type="revision", line_id="H1", committed_cents=1500),
        cmd(type="disbursement", line_id="H1", amount_cents=1200),
        lines={"H1": line},
    )
    assert isinstance(decision, Accepted)
    paid = decision.entries[1][0].line
    assert (paid.committed_cents, paid.disbursed_cents, paid.version, paid.history) == (1500, 1200, 3, True)


def test_a_history_line_takes_no_change_on_any_other_channel() -> None:
    error = refusal_of(decide(cmd(type="disbursement", line_id="H1", amount_cents=1), history=False,
                              lines={"H1": history_line()}))  # fmt: skip
    assert error["field"] == "line_id" and "only a history import changes it" in error["message"]


def test_history_changes_only_history_lines_of_closed_years() -> None:
    closed_by_roll_over = history_line(history=False, status=LineStatus.ACTIVE)
    error = refusal_of(decide(cmd(type="revision", line_id="H1", committed_cents=5), lines={"H1": closed_by_roll_over}))
    assert error["field"] == "line_id" and "not a history line" in error["message"]
    open_line = history_line(history=False, fiscal_year=2027)
    error = refusal_of(decide(cmd(type="revision", line_id="H1", committed_cents=5), lines={"H1": open_line}))
    assert error["field"] == "fiscal_year" and "use an import channel" in error["message"]


def test_history_neither_revokes_nor_reallocates() -> None:
    lines = {"H1": history_line()}
    for command in (
        cmd(type="revocation", line_id="H1"),
        cmd(type="reallocation", line_id="H1", amount_cents=1, to_line_id="H2", to_objective_id="o1"),
    ):
        error = refusal_of(decide(command, lines=lines))
        assert error["field"] == "type" and "history channel records" in error["message"]


def test_the_roll_over_never_extends_into_or_out_of_a_history_line() -> None:
    # The roll-over closes only the window's first year, and history lines are all before
    # it; and what it opens in the next year is never history.
    line = history_line(fiscal_year=2025, history=False)
    pair = rules.roll_over(line, None, "H1.2026", "year-end")
    assert pair is not None and not pair[1].line.history
