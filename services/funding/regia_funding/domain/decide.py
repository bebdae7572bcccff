"""Which ledger entries one funding command makes. Pure: the caller reads, up front, every
line, instrument and objective a whole batch of commands needs (a `View`), then decides
each command against the lines as the commands before it left them."""

from typing import Protocol

from . import rules
from .commands import CommitFunding, DisburseFunding, FundingCommand, ReallocateFunding, ReviseFunding
from .errors import InvalidChange, LineNotFound
from .line import FundingLine, LedgerEntry
from .rules import Instrument, Scope, Window


class View(Protocol):
    """What the rules are checked against."""

    @property
    def window(self) -> Window:
        """Which years are open (for new lines) and closed (for every change)."""

    def line(self, line_id: str) -> FundingLine | None: ...

    def owner_of(self, line_id: str) -> str | None:
        """The institution of a line, if it exists: what `rules.claimable` checks a new
        id's would-be roll-over source against (a line's owner never changes)."""

    def instrument(self, instrument_id: str) -> Instrument | None: ...

    def objective_known(self, objective_id: str) -> bool: ...


def lines_of(command: FundingCommand) -> tuple[str, ...]:
    """The lines a command may change: what must be read, and locked, before deciding it."""
    if isinstance(command, ReallocateFunding):
        return command.line_id, command.to_line_id
    return (command.line_id,)


def reserved_by(command: FundingCommand) -> tuple[str, ...]:
    """The lines whose owners a command's new line id may be reserved for (`P` of `P.2027`)."""
    if isinstance(command, CommitFunding):
        opened = command.line_id
    elif isinstance(command, ReallocateFunding):
        opened = command.to_line_id
    else:
        return ()
    source = rules.rolled_over_from(opened)
    return (source,) if source is not None else ()


def objectives_of(command: FundingCommand) -> tuple[str, ...]:
    if isinstance(command, CommitFunding):
        return (command.objective_id,)
    if isinstance(command, ReallocateFunding) and command.to_objective_id is not None:
        return (command.to_objective_id,)
    return ()


HISTORY_TYPES = ("commitment", "revision", "disbursement")


def decide(command: FundingCommand, owner: str, scope: Scope, view: View, history: bool = False) -> list[LedgerEntry]:
    """The entries to append (one, or two for a reallocation), or a `Refused` raised. With
    `history` (a history channel), the command records money of a closed year."""
    window = view.window
    if history and command.type not in HISTORY_TYPES:
        # History records what was committed and paid; moving or withdrawing money is a
        # decision about money still open, which a closed year no longer has.
        raise InvalidChange(f"a history channel records {', '.join(HISTORY_TYPES)}, not a {command.type}", "type")
    if isinstance(command, CommitFunding):
        return [
            rules.open_line(
                command,
                owner,
                scope,
                view.instrument(command.instrument_id),
                view.objective_known(command.objective_id),
                view.line(command.line_id),
                window,
                _rolled_from_owner(view, command.line_id),
                history,
            )
        ]
    if isinstance(command, ReallocateFunding):
        source = _found(view.line(command.line_id), command.line_id)
        known = command.to_objective_id is None or view.objective_known(command.to_objective_id)
        return list(
            rules.reallocate(
                source,
                view.line(command.to_line_id),
                command,
                owner,
                scope,
                known,
                window,
                _rolled_from_owner(view, command.to_line_id),
            )
        )
    line = _found(view.line(command.line_id), command.line_id)
    if isinstance(command, ReviseFunding):
        return [rules.revise(line, command, owner, scope, window, history)]
    if isinstance(command, DisburseFunding):
        return [rules.disburse(line, command, owner, scope, window, history)]
    return [rules.revoke(line, command, owner, scope, window)]


def _rolled_from_owner(view: View, line_id: str) -> str | None:
    source = rules.rolled_over_from(line_id)
    return view.owner_of(source) if source is not None else None


def _found(line: FundingLine | None, line_id: str) -> FundingLine:
    if line is None:
        raise LineNotFound(f"no funding line {line_id!r}", "line_id")
    return line
