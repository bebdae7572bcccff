"""The rules of changing funding lines. Pure functions: each takes what the adapters read
and returns the ledger entries to append, or raises a refusal that names the field."""

from collections.abc import Collection
from dataclasses import dataclass, replace

from regia_shared.levels import GovernmentLevel

from .commands import CommitFunding, DisburseFunding, ReallocateFunding, ReviseFunding, RevokeFunding
from .errors import InvalidChange, LineAlreadyExists, NoSuchMoney, NotYours, StaleVersion, UnknownReference
from .line import EntryKind, FundingLine, LedgerEntry, LineStatus


@dataclass(frozen=True)
class Instrument:
    instrument_id: str
    institution_id: str
    level: GovernmentLevel


@dataclass(frozen=True)
class Window:
    """The fiscal years open for funding; it rolls forward a year at each year-end."""

    first_year: int
    last_year: int

    def check(self, year: int, field: str = "fiscal_year") -> None:
        if not self.first_year <= year <= self.last_year:
            raise InvalidChange(f"{field} {year} is outside the budget window "
                                f"{self.first_year}..{self.last_year}", field)


Scope = Collection[str] | None  # the instruments a key may touch; None: all its institution's


def open_line(command: CommitFunding, owner: str, scope: Scope, instrument: Instrument | None,
              objective_known: bool, existing: FundingLine | None, window: Window) -> LedgerEntry:
    if existing is not None:
        _owned(existing, owner, scope)
        raise LineAlreadyExists(f"line {command.line_id!r} already exists (version "
                                f"{existing.version}); send a revision to change it", "line_id")
    _instrument_usable(instrument, command.instrument_id, owner, scope)
    assert instrument is not None
    if not objective_known:
        raise UnknownReference(f"unknown objective {command.objective_id!r}: define it in the "
                               "objectives service first", "objective_id")
    window.check(command.fiscal_year)
    if command.expected_version not in (None, 0):
        raise StaleVersion(f"line {command.line_id!r} does not exist yet: expected version 0",
                           "expected_version")
    line = FundingLine(command.line_id, owner, instrument.instrument_id, instrument.level,
                       command.objective_id, command.fiscal_year, command.committed_cents, 0, 1,
                       LineStatus.ACTIVE)
    return LedgerEntry(EntryKind.COMMITMENT, line, command.committed_cents, 0, command.reason)


def revise(line: FundingLine, command: ReviseFunding, owner: str, scope: Scope) -> LedgerEntry:
    _changeable(line, command.expected_version, owner, scope)
    if command.committed_cents < line.disbursed_cents:
        raise NoSuchMoney(f"committed_cents {command.committed_cents} is below the "
                          f"{line.disbursed_cents} already disbursed", "committed_cents")
    return _entry(EntryKind.REVISION, line, command.committed_cents - line.committed_cents, 0,
                  command.reason)


def disburse(line: FundingLine, command: DisburseFunding, owner: str, scope: Scope) -> LedgerEntry:
    _changeable(line, command.expected_version, owner, scope)
    if command.amount_cents > line.undisbursed_cents:
        raise NoSuchMoney(f"amount_cents {command.amount_cents} exceeds the "
                          f"{line.undisbursed_cents} committed and not yet disbursed", "amount_cents")
    return _entry(EntryKind.DISBURSEMENT, line, 0, command.amount_cents, command.reason)


def revoke(line: FundingLine, command: RevokeFunding, owner: str, scope: Scope) -> LedgerEntry:
    """Withdraw what is undisbursed; what was paid stays paid."""
    _changeable(line, command.expected_version, owner, scope)
    entry = _entry(EntryKind.REVOCATION, line, -line.undisbursed_cents, 0, command.reason)
    return replace(entry, line=replace(entry.line, status=LineStatus.REVOKED))


def reallocate(source: FundingLine, target: FundingLine | None, command: ReallocateFunding,
               owner: str, scope: Scope, objective_known: bool) -> tuple[LedgerEntry, LedgerEntry]:
    _changeable(source, command.expected_version, owner, scope)
    if command.amount_cents > source.undisbursed_cents:
        raise NoSuchMoney(f"amount_cents {command.amount_cents} exceeds the "
                          f"{source.undisbursed_cents} committed and not yet disbursed", "amount_cents")
    if target is None:
        if command.to_objective_id is None:
            raise InvalidChange(f"line {command.to_line_id!r} does not exist: give to_objective_id "
                                "to open it", "to_objective_id")
        if not objective_known:
            raise UnknownReference(f"unknown objective {command.to_objective_id!r}", "to_objective_id")
        target = FundingLine(command.to_line_id, source.institution_id, source.instrument_id,
                             source.level, command.to_objective_id, source.fiscal_year, 0, 0, 0,
                             LineStatus.ACTIVE)
    else:
        _changeable(target, None, owner, scope, field="to_line_id")
        if (target.instrument_id, target.fiscal_year) != (source.instrument_id, source.fiscal_year):
            raise InvalidChange("money moves only between lines of the same instrument and fiscal "
                                f"year ({source.instrument_id}, {source.fiscal_year})", "to_line_id")
        if command.to_objective_id not in (None, target.objective_id):
            raise InvalidChange(f"line {target.line_id!r} funds {target.objective_id!r}",
                                "to_objective_id")
    amount = command.amount_cents
    out = _entry(EntryKind.REALLOCATION_OUT, source, -amount, 0, command.reason, target.line_id)
    into = _entry(EntryKind.REALLOCATION_IN, target, amount, 0, command.reason, source.line_id)
    return out, into


def roll_over(line: FundingLine, target: FundingLine | None, target_line_id: str,
              reason: str) -> tuple[LedgerEntry, LedgerEntry] | None:
    """Close a line's year: its undisbursed rest moves to the same objective and instrument
    in the next year (a new line, or the one a previous roll-over opened)."""
    if line.status is not LineStatus.ACTIVE or line.undisbursed_cents == 0:
        return None
    rest = line.undisbursed_cents
    if target is None:
        target = replace(line, line_id=target_line_id, fiscal_year=line.fiscal_year + 1,
                         committed_cents=0, disbursed_cents=0, version=0)
    out = _entry(EntryKind.ROLLOVER_OUT, line, -rest, 0, reason, target.line_id)
    out = replace(out, line=replace(out.line, status=LineStatus.ROLLED_OVER))
    return out, _entry(EntryKind.ROLLOVER_IN, target, rest, 0, reason, line.line_id)


def _entry(kind: EntryKind, line: FundingLine, committed_delta: int, disbursed_delta: int,
           reason: str | None, counterpart: str | None = None) -> LedgerEntry:
    after = replace(line, committed_cents=line.committed_cents + committed_delta,
                    disbursed_cents=line.disbursed_cents + disbursed_delta, version=line.version + 1)
    return LedgerEntry(kind, after, committed_delta, disbursed_delta, reason, counterpart)


def _owned(line: FundingLine, owner: str, scope: Scope, field: str = "line_id") -> None:
    if line.institution_id != owner:
        raise NotYours(f"line {line.line_id!r} belongs to another institution", field)
    if scope is not None and line.instrument_id not in scope:
        raise NotYours(f"this key may not touch instrument {line.instrument_id!r}", field)


def _changeable(line: FundingLine, expected_version: int | None, owner: str, scope: Scope,
                field: str = "line_id") -> None:
    _owned(line, owner, scope, field)
    if expected_version is not None and expected_version != line.version:
        raise StaleVersion(f"line {line.line_id!r} is at version {line.version}, not "
                           f"{expected_version}", "expected_version")
    if line.status is not LineStatus.ACTIVE:
        raise InvalidChange(f"line {line.line_id!r} is {line.status.value.lower()}; open a new "
                            "line instead", field)


def _instrument_usable(instrument: Instrument | None, instrument_id: str, owner: str, scope: Scope) -> None:
    if instrument is None:
        raise UnknownReference(f"unknown instrument {instrument_id!r}", "instrument_id")
    if instrument.institution_id != owner:
        raise NotYours(f"instrument {instrument_id!r} belongs to another institution", "instrument_id")
    if scope is not None and instrument_id not in scope:
        raise NotYours(f"this key may not use instrument {instrument_id!r}", "instrument_id")
