"""Executing one funding command inside the caller's transaction: read what the rules need
(locking the lines it changes), apply the pure rules, append entries and their events."""

from typing import TYPE_CHECKING, Any

import asyncpg

from regia_shared import outbox, topics
from regia_shared.events.envelope import Envelope
from regia_shared.events.funding import (
    FundingCommitted,
    FundingDisbursed,
    FundingLineChanged,
    FundingReallocated,
    FundingRevised,
    FundingRevoked,
    FundingRolledOver,
)

from .adapters import lines, references
from .domain import rules
from .domain.commands import CommitFunding, DisburseFunding, FundingCommand, ReallocateFunding, ReviseFunding
from .domain.errors import LineAlreadyExists, LineNotFound
from .domain.line import EntryKind, LedgerEntry

if TYPE_CHECKING:
    from .handlers import Caller

_EVENT_OF_KIND: dict[EntryKind, type[FundingLineChanged]] = {
    EntryKind.COMMITMENT: FundingCommitted,
    EntryKind.REVISION: FundingRevised,
    EntryKind.DISBURSEMENT: FundingDisbursed,
    EntryKind.REVOCATION: FundingRevoked,
    EntryKind.REALLOCATION_OUT: FundingReallocated,
    EntryKind.REALLOCATION_IN: FundingReallocated,
    EntryKind.ROLLOVER_OUT: FundingRolledOver,
    EntryKind.ROLLOVER_IN: FundingRolledOver,
}


async def execute(conn: asyncpg.Connection, caller: "Caller", command: FundingCommand,
                  correlation_id: str) -> dict[str, Any]:
    owner, scope = caller.institution_id, caller.instruments
    if isinstance(command, CommitFunding):
        entries = [rules.open_line(
            command, owner, scope, await references.instrument(conn, command.instrument_id),
            await references.objective_known(conn, command.objective_id),
            await lines.get(conn, command.line_id, for_update=True), await references.window(conn))]
    elif isinstance(command, ReallocateFunding):
        # Lock both lines in id order: two opposite reallocations cannot deadlock.
        locked = {line_id: await lines.get(conn, line_id, for_update=True)
                  for line_id in sorted((command.line_id, command.to_line_id))}
        source = _found(locked[command.line_id], command.line_id)
        known = command.to_objective_id is None or await references.objective_known(conn, command.to_objective_id)
        entries = list(rules.reallocate(source, locked[command.to_line_id], command, owner, scope, known))
    else:
        line = _found(await lines.get(conn, command.line_id, for_update=True), command.line_id)
        if isinstance(command, ReviseFunding):
            entries = [rules.revise(line, command, owner, scope)]
        elif isinstance(command, DisburseFunding):
            entries = [rules.disburse(line, command, owner, scope)]
        else:
            entries = [rules.revoke(line, command, owner, scope)]
    recorded = await append(conn, entries, pushed_by=caller.recorded_as, key_id=caller.key_id,
                            channel=caller.channel, correlation_id=correlation_id)
    first_entry, first_event = recorded[0]
    return {
        "event_id": str(first_event.event_id), "event_type": first_event.type, "entry_id": first_entry,
        "line_id": entries[0].line.line_id, "line_version": entries[0].line.version,
        "committed_cents": entries[0].line.committed_cents,
        "disbursed_cents": entries[0].line.disbursed_cents, "status": entries[0].line.status.value,
        **({"counterpart": {"line_id": entries[1].line.line_id, "line_version": entries[1].line.version,
                            "committed_cents": entries[1].line.committed_cents,
                            "event_id": str(recorded[1][1].event_id)}} if len(entries) > 1 else {}),
    }


async def append(conn: asyncpg.Connection, entries: list[LedgerEntry], *, pushed_by: str,
                 key_id: str | None, channel: str, correlation_id: str) -> list[tuple[int, Envelope]]:
    recorded = []
    for entry in entries:
        event = _event(entry, correlation_id)
        try:
            entry_id = await lines.save(conn, entry, pushed_by=pushed_by, key_id=key_id, channel=channel,
                                        event_id=event.event_id, correlation_id=correlation_id)
        except asyncpg.UniqueViolationError as exc:
            raise LineAlreadyExists(f"line {entry.line.line_id!r} was opened concurrently", "line_id") from exc
        recorded.append((entry_id, event))
    await outbox.append(conn, topics.FUNDING, [event for _, event in recorded])
    return recorded


def _found(line: Any, line_id: str) -> Any:
    if line is None:
        raise LineNotFound(f"no funding line {line_id!r}", "line_id")
    return line


def _event(entry: LedgerEntry, correlation_id: str) -> Envelope:
    line = entry.line
    payload = _EVENT_OF_KIND[entry.kind](
        line_id=line.line_id, institution_id=line.institution_id, level=line.level,
        objective_id=line.objective_id, fiscal_year=line.fiscal_year,
        committed_cents=line.committed_cents, disbursed_cents=line.disbursed_cents,
        line_version=line.version, delta_cents=entry.committed_delta_cents, reason=entry.reason,
        instrument_id=line.instrument_id, disbursed_delta_cents=entry.disbursed_delta_cents,
        counterpart_line_id=entry.counterpart_line_id,
    )
    # Keyed by objective: every event that moves one objective's coverage is in one
    # partition, in the order the ledger recorded it.
    return Envelope.wrap(payload, key=line.objective_id, producer="funding", correlation_id=correlation_id)
