"""The rules of changing funding lines. Pure functions: each takes what the adapters read
and returns the ledger entries to append, or raises a refusal that names the field.

Money never changes owner. A line belongs to one institution, one instrument, one
objective and one fiscal year for good; money moves only between lines that share the
institution and instrument (a reallocation, within one year) or also the objective (the
year-end roll-over, into the next year). Two rules keep line ids, which are global, from
being used to cross that line:

- The roll-over's ids are reserved. The rest of line `P` of year Y goes to `P.<Y+1>`; once
  `P` exists, nobody but `P`'s institution may open a line `P.<Y+1>` (`claimable`). And
  ids beginning with `rollover:` are the roll-over's own: no client opens one.
- The roll-over extends only a line that `extends` its source: same institution,
  instrument and objective, the next fiscal year, still ACTIVE. When `P.<Y+1>` is held by
  any other line (squatted before `P` existed, or revoked, or of another objective or
  instrument) the rest goes to `rollover:<Y+1>:P` instead, under the owner's name
  (`roll_over_targets`). The year still closes: an administrator is never held up by a
  line they cannot change (another institution's, and the ledger is append-only), and
  the owner finds its money at an id the roll-over reports.

A fiscal year before the budget window's first year is closed: its lines take no change.

History is the one way money gets into a closed year: an administrator's import on a
`history` channel (`history` or `history:<source>`, e.g. a closed programming cycle from
OpenCoesione) opens lines marked `history` for closed years only, and revises or disburses
them later on the same kind of channel. It is the record of what was spent, not an open
commitment: a history channel is refused for an open year (that is an import's job, under
the window's rules), an institution's own key never writes history, and the roll-over,
which closes only the window's first year, never meets a history line.
"""

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from datetime import date

from regia_shared.contracts.levels import GovernmentLevel

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
            raise InvalidChange(
                f"{field} {year} is outside the budget window {self.first_year}..{self.last_year}", field
            )

    def closed(self, year: int) -> bool:
        """A year the window has moved past: its roll-over is done, its books are shut."""
        return year < self.first_year

    def check_open(self, line: FundingLine, field: str = "line_id") -> None:
        if self.closed(line.fiscal_year):
            changes = "only a history import changes it" if line.history else "its lines take no more changes"
            raise InvalidChange(
                f"line {line.line_id!r}: fiscal year {line.fiscal_year} is closed (the "
                f"budget window starts at {self.first_year}); {changes}",
                field,
            )

    def check_closed(self, year: int, field: str = "fiscal_year") -> None:
        """History is for closed years only: an open year's money is an import's, under the
        window's rules, so that history can never stand in for a live commitment."""
        if not self.closed(year):
            raise InvalidChange(
                f"{field} {year} is not closed (the budget window starts at {self.first_year}): "
                f"history records only years before {self.first_year}; use an import channel "
                "(`import` or `import:<source>`) for an open year",
                field,
            )


HISTORY_CHANNEL = re.compile(r"history(:[a-z0-9._-]{1,50})?")


def is_history(channel: str) -> bool:
    """Does a request's channel record history (`history`, `history:<source>`)?"""
    return HISTORY_CHANNEL.fullmatch(channel) is not None


def check_may_write_history(on_behalf: bool) -> None:
    """Only an administrator's import writes history: an institution's key could otherwise
    put money in a closed year, where the window's rules no longer look."""
    if not on_behalf:
        raise NotYours(
            "history is recorded only by an administrator's import, never with an institution's key", "channel"
        )


def check_history_line(line: FundingLine, window: "Window", field: str = "line_id") -> None:
    """What a history channel may change: a history line, in its closed year."""
    window.check_closed(line.fiscal_year)
    if not line.history:
        raise InvalidChange(
            f"line {line.line_id!r} is not a history line (its year closed with the roll-over): "
            "a history channel changes only the lines history opened",
            field,
        )


MAX_LINE_ID = 100  # the commands' limit (commands.Slug)
ROLLOVER_PREFIX = "rollover:"  # the roll-over's own line ids: no client may open one
_NEXT_YEAR_ID = re.compile(r"(.+)\.(\d{4})")


def next_year_line_id(line_id: str, year: int) -> str:
    """Where the roll-over into `year` first tries to put a line's rest: `<line>.<year>`
    (cut to fit; a cut id can collide, which `extends` then catches)."""
    suffix = f".{year}"
    return line_id[: MAX_LINE_ID - len(suffix)] + suffix


def roll_over_targets(line_id: str, year: int) -> Iterator[str]:
    """The ids a line's rest may go to in `year`, in order: `<line>.<year>`, then ids in the
    reserved namespace, `rollover:<year>:<line>`, `rollover:<year>-2:<line>`, ... The caller
    takes the first that is free or `extends` the line."""
    yield next_year_line_id(line_id, year)
    n = 1
    while True:
        tag = f"{ROLLOVER_PREFIX}{year}:" if n == 1 else f"{ROLLOVER_PREFIX}{year}-{n}:"
        yield (tag + line_id)[:MAX_LINE_ID]
        n += 1


def rolled_over_from(line_id: str) -> str | None:
    """The line whose roll-over would take `line_id` (`P` for `P.2027`), or None."""
    found = _NEXT_YEAR_ID.fullmatch(line_id)
    return found.group(1) if found else None


def claimable(line_id: str, owner: str, rolled_from_owner: str | None, field: str = "line_id") -> None:
    """May `owner` open a new line with this id? Not in the roll-over's namespace, and not
    the next-year id of another institution's existing line (`rolled_from_owner`: the
    institution of the line `rolled_over_from(line_id)`, if it exists)."""
    if line_id.startswith(ROLLOVER_PREFIX):
        raise InvalidChange(
            f"line ids beginning with {ROLLOVER_PREFIX!r} are reserved for the year-end roll-over: choose another id",
            field,
        )
    if rolled_from_owner is not None and rolled_from_owner != owner:
        raise NotYours(
            f"line id {line_id!r} is reserved for the year-end roll-over of line "
            f"{rolled_over_from(line_id)!r}, which belongs to another institution: choose "
            "another id",
            field,
        )


def extends(line: FundingLine, target: FundingLine) -> bool:
    """May the roll-over of `line` add its rest to `target`? Only the same owner's money for
    the same objective from the same instrument, in the next year, on a line still open."""
    return (
        target.institution_id == line.institution_id
        and target.instrument_id == line.instrument_id
        and target.level == line.level
        and target.objective_id == line.objective_id
        and target.fiscal_year == line.fiscal_year + 1
        and target.status is LineStatus.ACTIVE
    )


def check_year_ended(closing_year: int, today: date) -> None:
    """A year is closed (rolled over, reviewed) only once it has ended in Rome."""
    if today.year <= closing_year:
        raise InvalidChange(
            f"{closing_year} has not ended: it can be closed from 1 January "
            f"{closing_year + 1} (Europe/Rome); today is {today.isoformat()}",
            "closing_year",
        )


Scope = Collection[str] | None  # the instruments a key may touch; None: all its institution's


def open_line(
    command: CommitFunding,
    owner: str,
    scope: Scope,
    instrument: Instrument | None,
    objective_known: bool,
    existing: FundingLine | None,
    window: Window,
    rolled_from_owner: str | None = None,
    history: bool = False,
) -> LedgerEntry:
    """A new line; `rolled_from_owner` is the institution of the line whose roll-over
    would take this id (`rolled_over_from`), if that line exists. With `history`, a
    history line for a closed year (and only a closed year)."""
    if existing is not None:
        _owned(existing, owner, scope)
        raise LineAlreadyExists(
            f"line {command.line_id!r} already exists (version {existing.version}); send a revision to change it",
            "line_id",
        )
    claimable(command.line_id, owner, rolled_from_owner)
    _instrument_usable(instrument, command.instrument_id, owner, scope)
    assert instrument is not None
    if not objective_known:
        raise UnknownReference(
            f"unknown objective {command.objective_id!r}: define it in the objectives service first", "objective_id"
        )
    if history:
        window.check_closed(command.fiscal_year)
    else:
        window.check(command.fiscal_year)
    if command.expected_version not in (None, 0):
        raise StaleVersion(f"line {command.line_id!r} does not exist yet: expected version 0", "expected_version")
    line = FundingLine(
        command.line_id,
        owner,
        instrument.instrument_id,
        instrument.level,
        command.objective_id,
        command.fiscal_year,
        command.committed_cents,
        0,
        1,
        LineStatus.ACTIVE,
        command.cup,
        command.source_ref,
        command.source_status,
        history=history,
    )
    return LedgerEntry(
        EntryKind.COMMITMENT, line, command.committed_cents, 0, command.reason, act_date=command.act_date
    )


def revise(
    line: FundingLine, command: ReviseFunding, owner: str, scope: Scope, window: Window, history: bool = False
) -> LedgerEntry:
    _changeable(line, command.expected_version, owner, scope, window, history=history)
    if command.committed_cents < line.disbursed_cents:
        raise NoSuchMoney(
            f"committed_cents {command.committed_cents} is below the {line.disbursed_cents} already disbursed",
            "committed_cents",
        )
    return _entry(EntryKind.REVISION, line, command.committed_cents - line.committed_cents, 0, command.reason)


def disburse(
    line: FundingLine, command: DisburseFunding, owner: str, scope: Scope, window: Window, history: bool = False
) -> LedgerEntry:
    _changeable(line, command.expected_version, owner, scope, window, history=history)
    if command.amount_cents > line.undisbursed_cents:
        raise NoSuchMoney(
            f"amount_cents {command.amount_cents} exceeds the {line.undisbursed_cents} committed and not yet disbursed",
            "amount_cents",
        )
    entry = _entry(EntryKind.DISBURSEMENT, line, 0, command.amount_cents, command.reason)
    return replace(entry, act_date=command.act_date)


def revoke(line: FundingLine, command: RevokeFunding, owner: str, scope: Scope, window: Window) -> LedgerEntry:
    """Withdraw what is undisbursed; what was paid stays paid."""
    _changeable(line, command.expected_version, owner, scope, window)
    entry = _entry(EntryKind.REVOCATION, line, -line.undisbursed_cents, 0, command.reason)
    return replace(entry, line=replace(entry.line, status=LineStatus.REVOKED))


def reallocate(
    source: FundingLine,
    target: FundingLine | None,
    command: ReallocateFunding,
    owner: str,
    scope: Scope,
    objective_known: bool,
    window: Window,
    rolled_from_owner: str | None = None,
) -> tuple[LedgerEntry, LedgerEntry]:
    """Move undisbursed money to another line of the same institution, instrument and year
    (an existing one, or one opened here: `rolled_from_owner` as for `claimable`). The
    source's year must be open, so a line opened here is in an open year too."""
    _changeable(source, command.expected_version, owner, scope, window)
    if command.amount_cents > source.undisbursed_cents:
        raise NoSuchMoney(
            f"amount_cents {command.amount_cents} exceeds the "
            f"{source.undisbursed_cents} committed and not yet disbursed",
            "amount_cents",
        )
    if target is None:
        if command.to_objective_id is None:
            raise InvalidChange(
                f"line {command.to_line_id!r} does not exist: give to_objective_id to open it", "to_objective_id"
            )
        claimable(command.to_line_id, owner, rolled_from_owner, "to_line_id")
        if not objective_known:
            raise UnknownReference(f"unknown objective {command.to_objective_id!r}", "to_objective_id")
        target = FundingLine(
            command.to_line_id,
            source.institution_id,
            source.instrument_id,
            source.level,
            command.to_objective_id,
            source.fiscal_year,
            0,
            0,
            0,
            LineStatus.ACTIVE,
        )
    else:
        _changeable(target, None, owner, scope, window, field="to_line_id")
        if (target.instrument_id, target.fiscal_year) != (source.instrument_id, source.fiscal_year):
            raise InvalidChange(
                "money moves only between lines of the same instrument and fiscal "
                f"year ({source.instrument_id}, {source.fiscal_year})",
                "to_line_id",
            )
        if command.to_objective_id not in (None, target.objective_id):
            raise InvalidChange(f"line {target.line_id!r} funds {target.objective_id!r}", "to_objective_id")
    amount = command.amount_cents
    out = _entry(EntryKind.REALLOCATION_OUT, source, -amount, 0, command.reason, target.line_id)
    into = _entry(EntryKind.REALLOCATION_IN, target, amount, 0, command.reason, source.line_id)
    return out, into


def roll_over(
    line: FundingLine, target: FundingLine | None, target_line_id: str, reason: str
) -> tuple[LedgerEntry, LedgerEntry] | None:
    """Close a line's year: its undisbursed rest moves to the same objective and instrument
    in the next year: a new line `target_line_id`, or `target`, which must extend it (the
    caller picks the id with `roll_over_targets`; anything else is a bug, never a transfer)."""
    if line.status is not LineStatus.ACTIVE or line.undisbursed_cents == 0:
        return None
    rest = line.undisbursed_cents
    if target is not None and not extends(line, target):
        raise InvalidChange(
            f"line {target.line_id!r} may not receive the roll-over of {line.line_id!r}: "
            "it is not the same institution's open line for the same instrument and "
            "objective in the next year",
            "line_id",
        )
    if target is None:
        target = replace(
            line,
            line_id=target_line_id,
            fiscal_year=line.fiscal_year + 1,
            committed_cents=0,
            disbursed_cents=0,
            version=0,
        )
    out = _entry(EntryKind.ROLLOVER_OUT, line, -rest, 0, reason, target.line_id)
    out = replace(out, line=replace(out.line, status=LineStatus.ROLLED_OVER))
    return out, _entry(EntryKind.ROLLOVER_IN, target, rest, 0, reason, line.line_id)


def _entry(
    kind: EntryKind,
    line: FundingLine,
    committed_delta: int,
    disbursed_delta: int,
    reason: str | None,
    counterpart: str | None = None,
) -> LedgerEntry:
    after = replace(
        line,
        committed_cents=line.committed_cents + committed_delta,
        disbursed_cents=line.disbursed_cents + disbursed_delta,
        version=line.version + 1,
    )
    return LedgerEntry(kind, after, committed_delta, disbursed_delta, reason, counterpart)


def _owned(line: FundingLine, owner: str, scope: Scope, field: str = "line_id") -> None:
    if line.institution_id != owner:
        raise NotYours(f"line {line.line_id!r} belongs to another institution", field)
    if scope is not None and line.instrument_id not in scope:
        raise NotYours(f"this key may not touch instrument {line.instrument_id!r}", field)


def _changeable(
    line: FundingLine,
    expected_version: int | None,
    owner: str,
    scope: Scope,
    window: Window,
    field: str = "line_id",
    history: bool = False,
) -> None:
    _owned(line, owner, scope, field)
    if history:
        check_history_line(line, window, field)
    else:
        window.check_open(line, field)
    if expected_version is not None and expected_version != line.version:
        raise StaleVersion(
            f"line {line.line_id!r} is at version {line.version}, not {expected_version}", "expected_version"
        )
    if line.status is not LineStatus.ACTIVE:
        raise InvalidChange(f"line {line.line_id!r} is {line.status.value.lower()}; open a new line instead", field)


def _instrument_usable(instrument: Instrument | None, instrument_id: str, owner: str, scope: Scope) -> None:
    if instrument is None:
        raise UnknownReference(f"unknown instrument {instrument_id!r}", "instrument_id")
    if instrument.institution_id != owner:
        raise NotYours(f"instrument {instrument_id!r} belongs to another institution", "instrument_id")
    if scope is not None and instrument_id not in scope:
        raise NotYours(f"this key may not use instrument {instrument_id!r}", "instrument_id")
