"""Deciding many submissions at once, exactly as if each had run alone, one after another.

A submission is what one HTTP request or one Kafka message asks for: its commands stand or
fall together under one Idempotency-Key. The submissions of a batch are decided in order,
each against the lines as the accepted ones before it left them, and a refused one leaves
nothing behind. This is what lets the executor read a whole batch's lines in one statement
and write its effects in a few, instead of a savepoint and a dozen round trips per message.
Pure: no I/O.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from regia_shared.contracts.refusal import Refused
from regia_shared.frozen_init import direct_init

from .commands import FundingCommand
from .decide import View, decide
from .errors import BatchRefused, IdempotencyKeyReused, KeyNotValid
from .line import FundingLine, LedgerEntry
from .rules import Instrument, Scope, Window, check_may_write_history

# (institution, space, Idempotency-Key): single requests and batches are two spaces, so one
# key string names one request of each (service_layer.recording.FundingRequest.key).
Key = tuple[str, str, str]


@direct_init
@dataclass(frozen=True)
class Submission:
    key: Key
    fingerprint: str  # SHA-256 of the commands: the same key with other commands is refused
    owner: str
    scope: Scope
    commands: Sequence[FundingCommand]
    batch: bool = False  # all-or-nothing with every refusal listed, rather than one command
    history: bool = False  # sent on a history channel (rules.is_history)
    on_behalf: bool = False  # by an administrator for the institution (an import)
    key_id: str | None = None  # the API key it came with, checked again in its transaction


@dataclass(frozen=True)
class Earlier:
    """What an Idempotency-Key recorded before this batch."""

    fingerprint: str
    status: int
    body: dict[str, Any]


@direct_init
@dataclass(frozen=True)
class Accepted:
    entries: list[list[LedgerEntry]]  # per command, in order


@dataclass(frozen=True)
class Replay:
    """The key was used before with the same commands: answer what was answered then,
    from the database (`earlier`) or from an accepted submission earlier in this batch."""

    earlier: Earlier | None = None
    of_index: int | None = None


@dataclass(frozen=True)
class Refusal:
    error: Refused


Decision = Accepted | Replay | Refusal


@dataclass
class Snapshot:
    """The lines, instruments and objectives a batch names, as read before deciding it."""

    window: Window
    lines: Mapping[str, FundingLine]
    instruments: Mapping[str, Instrument]
    objectives: frozenset[str]
    owners: Mapping[str, str] = field(default_factory=dict)  # of the lines `decide.reserved_by` names

    def line(self, line_id: str) -> FundingLine | None:
        return self.lines.get(line_id)

    def owner_of(self, line_id: str) -> str | None:
        found = self.lines.get(line_id)
        return found.institution_id if found is not None else self.owners.get(line_id)

    def instrument(self, instrument_id: str) -> Instrument | None:
        return self.instruments.get(instrument_id)

    def objective_known(self, objective_id: str) -> bool:
        return objective_id in self.objectives


@dataclass
class _Changed:
    """A view with changes laid over it: what one submission has staged so far."""

    under: View
    lines: dict[str, FundingLine] = field(default_factory=dict)

    @property
    def window(self) -> Window:
        return self.under.window

    def line(self, line_id: str) -> FundingLine | None:
        return self.lines[line_id] if line_id in self.lines else self.under.line(line_id)

    def owner_of(self, line_id: str) -> str | None:
        # A line opened earlier in the batch reserves its next-year id like a stored one.
        return self.lines[line_id].institution_id if line_id in self.lines else self.under.owner_of(line_id)

    def instrument(self, instrument_id: str) -> Instrument | None:
        return self.under.instrument(instrument_id)

    def objective_known(self, objective_id: str) -> bool:
        return self.under.objective_known(objective_id)


def plan(
    submissions: Sequence[Submission],
    read: View,
    earlier: Mapping[Key, Earlier],
    revoked_keys: frozenset[str] = frozenset(),
) -> list[Decision]:
    """One decision per submission, in order. A submission whose API key is among
    `revoked_keys` (revoked, as read in the transaction that would record it) is refused
    before anything else, even a replay: a revoked key learns nothing more."""
    batch = _Changed(read)  # what the accepted submissions so far have changed
    accepted_at: dict[Key, int] = {}
    decisions: list[Decision] = []
    for index, submission in enumerate(submissions):
        before = earlier.get(submission.key)
        if submission.key_id is not None and submission.key_id in revoked_keys:
            decisions.append(Refusal(KeyNotValid("invalid API key", "authorization")))
        elif before is None and submission.key in accepted_at:
            first = accepted_at[submission.key]
            same = submissions[first].fingerprint == submission.fingerprint
            decisions.append(Replay(of_index=first) if same else _reused())
        elif before is not None:
            decisions.append(Replay(earlier=before) if before.fingerprint == submission.fingerprint else _reused())
        else:
            decision = _decide(submission, _Changed(batch))
            if isinstance(decision, Accepted):
                for entries in decision.entries:
                    batch.lines.update((e.line.line_id, e.line) for e in entries)
                accepted_at[submission.key] = index
            decisions.append(decision)
    return decisions


def _decide(submission: Submission, staged: _Changed) -> Accepted | Refusal:
    """Each command sees the ones before it in its submission (even after a refusal, so
    that every refusal of a batch is reported at once); a refusal discards them all."""
    if submission.history:
        try:
            check_may_write_history(submission.on_behalf)
        except Refused as refusal:
            return Refusal(refusal)
    made: list[list[LedgerEntry]] = []
    refusals: list[tuple[int, Refused]] = []
    for index, command in enumerate(submission.commands):
        try:
            entries = decide(command, submission.owner, submission.scope, staged, submission.history)
        except Refused as refusal:
            refusals.append((index, refusal))
            continue
        staged.lines.update((e.line.line_id, e.line) for e in entries)
        made.append(entries)
    if refusals:
        return Refusal(BatchRefused(refusals) if submission.batch else refusals[0][1])
    return Accepted(made)


def _reused() -> Refusal:
    return Refusal(
        IdempotencyKeyReused("this Idempotency-Key was already used for a different request", "Idempotency-Key")
    )
