"""The rules of changing a funding line, with no I/O."""

import pytest

from regia_funding.domain.commands import CommitFunding, ReviseFunding, RevokeFunding
from regia_funding.domain.errors import InvalidChange, LineAlreadyExists, NotYourLine, StaleVersion
from regia_funding.domain.line import EntryKind, LineStatus, change_line, open_line
from regia_shared.levels import GovernmentLevel
from regia_shared.money import format_euro

YEARS = range(2000, 2101)


def opened(amount: int = 1000):  # type: ignore[no-untyped-def]
    command = CommitFunding(type="commitment", line_id="L1", objective_id="o", fiscal_year=2027,
                            committed_cents=amount)
    return open_line(command, "liguria", GovernmentLevel.REGIONE, None, YEARS)


def test_a_commitment_opens_a_line_at_version_one() -> None:
    entry = opened()
    assert entry.kind is EntryKind.COMMITMENT and entry.delta_cents == 1000
    assert entry.line.version == 1 and entry.line.level is GovernmentLevel.REGIONE


def test_a_revision_records_the_delta_and_bumps_the_version() -> None:
    line = opened().line
    entry = change_line(line, ReviseFunding(type="revision", line_id="L1", committed_cents=400), "liguria")
    assert (entry.delta_cents, entry.line.committed_cents, entry.line.version) == (-600, 400, 2)


def test_a_revocation_zeroes_the_line_and_closes_it() -> None:
    entry = change_line(opened().line, RevokeFunding(type="revocation", line_id="L1"), "liguria")
    assert entry.line.status is LineStatus.REVOKED and entry.delta_cents == -1000
    with pytest.raises(InvalidChange):
        change_line(entry.line, ReviseFunding(type="revision", line_id="L1", committed_cents=5), "liguria")


def test_only_the_owner_changes_a_line() -> None:
    with pytest.raises(NotYourLine):
        change_line(opened().line, RevokeFunding(type="revocation", line_id="L1"), "comune")


def test_stale_versions_and_reopened_lines_are_refused() -> None:
    line = opened().line
    with pytest.raises(StaleVersion):
        change_line(line, ReviseFunding(type="revision", line_id="L1", committed_cents=1, expected_version=5), "liguria")
    command = CommitFunding(type="commitment", line_id="L1", objective_id="o", fiscal_year=2027, committed_cents=1)
    with pytest.raises(LineAlreadyExists):
        open_line(command, "liguria", GovernmentLevel.REGIONE, line, YEARS)


def test_years_outside_the_window_are_refused() -> None:
    command = CommitFunding(type="commitment", line_id="L1", objective_id="o", fiscal_year=2027, committed_cents=1)
    with pytest.raises(InvalidChange) as refused:
        open_line(command, "liguria", GovernmentLevel.REGIONE, None, range(2030, 2035))
    assert refused.value.field == "fiscal_year"


def test_euro_formatting() -> None:
    assert format_euro(123456789) == "€ 1.234.567,89"
    assert format_euro(5) == "€ 0,05"
    assert format_euro(-100) == "-€ 1,00"
