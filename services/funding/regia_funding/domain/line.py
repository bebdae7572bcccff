"""A funding line and the rules of changing it. Pure: no I/O.

Every accepted command yields the line's next state and the ledger entry that records it;
the entry carries the *resulting* amounts and the new version, which is what the published
event carries so that projections can apply events in any order.
"""

from dataclasses import dataclass, replace
from enum import StrEnum

from regia_shared.levels import GovernmentLevel

from .commands import CommitFunding, ReviseFunding, RevokeFunding
from .errors import InvalidChange, LineAlreadyExists, NotYourLine, StaleVersion


class LineStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


class EntryKind(StrEnum):
    COMMITMENT = "COMMITMENT"
    REVISION = "REVISION"
    REVOCATION = "REVOCATION"


@dataclass(frozen=True)
class FundingLine:
    line_id: str
    institution_id: str
    level: GovernmentLevel
    objective_id: str
    fiscal_year: int
    committed_cents: int
    disbursed_cents: int
    version: int
    status: LineStatus


@dataclass(frozen=True)
class LedgerEntry:
    kind: EntryKind
    delta_cents: int
    line: FundingLine  # the line as this entry leaves it
    reason: str | None


def open_line(
    command: CommitFunding, institution_id: str, level: GovernmentLevel,
    existing: FundingLine | None, years: range,
) -> LedgerEntry:
    if existing is not None:
        if existing.institution_id != institution_id:
            raise NotYourLine(f"line {command.line_id!r} belongs to another institution", "line_id")
        raise LineAlreadyExists(
            f"line {command.line_id!r} already exists (version {existing.version}); "
            "send a revision to change its amount", "line_id")
    if command.fiscal_year not in years:
        raise InvalidChange(
            f"fiscal_year {command.fiscal_year} is outside {years.start}..{years.stop - 1}",
            "fiscal_year")
    if command.expected_version not in (None, 0):
        raise StaleVersion(f"line {command.line_id!r} does not exist yet: expected_version must be 0")
    line = FundingLine(command.line_id, institution_id, level, command.objective_id,
                       command.fiscal_year, command.committed_cents, 0, 1, LineStatus.ACTIVE)
    return LedgerEntry(EntryKind.COMMITMENT, command.committed_cents, line, command.reason)


def change_line(line: FundingLine, command: ReviseFunding | RevokeFunding, institution_id: str) -> LedgerEntry:
    if line.institution_id != institution_id:
        raise NotYourLine(f"line {line.line_id!r} belongs to another institution", "line_id")
    if command.expected_version is not None and command.expected_version != line.version:
        raise StaleVersion(
            f"line {line.line_id!r} is at version {line.version}, not {command.expected_version}",
            "expected_version")
    if line.status is LineStatus.REVOKED:
        raise InvalidChange(f"line {line.line_id!r} is revoked; open a new line instead", "line_id")
    if isinstance(command, ReviseFunding):
        new_amount, kind, status = command.committed_cents, EntryKind.REVISION, LineStatus.ACTIVE
        if new_amount < line.disbursed_cents:
            raise InvalidChange(
                f"committed_cents {new_amount} is below the {line.disbursed_cents} already disbursed",
                "committed_cents")
    else:
        if line.disbursed_cents > 0:
            raise InvalidChange(
                f"line {line.line_id!r} has disbursements; revise it down to what was paid instead",
                "type")
        new_amount, kind, status = 0, EntryKind.REVOCATION, LineStatus.REVOKED
    changed = replace(line, committed_cents=new_amount, version=line.version + 1, status=status)
    return LedgerEntry(kind, new_amount - line.committed_cents, changed, command.reason)
