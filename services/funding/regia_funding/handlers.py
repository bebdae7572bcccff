"""The funding service's use cases: each runs in one transaction, so a refused command
writes nothing and an accepted one writes the line, its ledger entry, its outbox event
and its Idempotency-Key record together or not at all."""

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from regia_shared import outbox, topics
from regia_shared.events.envelope import Envelope
from regia_shared.events.funding import FundingCommitted, FundingLineChanged, FundingRevised, FundingRevoked

from .adapters import idempotency, institutions, lines
from .domain.commands import CommitFunding, FundingCommand
from .domain.errors import FundingError, LineAlreadyExists, LineNotFound, NotYourLine
from .domain.line import EntryKind, LedgerEntry, change_line, open_line

_EVENT_OF_KIND: dict[EntryKind, type[FundingLineChanged]] = {
    EntryKind.COMMITMENT: FundingCommitted,
    EntryKind.REVISION: FundingRevised,
    EntryKind.REVOCATION: FundingRevoked,
}


@dataclass(frozen=True)
class Caller:
    institution_id: str
    key_id: str | None
    channel: str = "http"


class IdempotencyKeyReused(FundingError):
    status, code = 422, "idempotency_key_reused"


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool


async def record_funding_event(
    pool: asyncpg.Pool, caller: Caller, command: FundingCommand, *,
    idempotency_key: str, request_sha256: str, correlation_id: str, years: range,
) -> Outcome:
    async with pool.acquire() as conn, conn.transaction():
        earlier = await idempotency.claim(conn, caller.institution_id, idempotency_key, request_sha256)
        if earlier is not None:
            if earlier["request_sha256"] != request_sha256:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was already used for a different request", "Idempotency-Key")
            return Outcome(earlier["status_code"], _json(earlier["response"]), replayed=True)

        existing = await lines.get(conn, command.line_id, for_update=True)
        if isinstance(command, CommitFunding):
            level = await institutions.level_of(conn, caller.institution_id)
            if level is None:
                raise NotYourLine(f"institution {caller.institution_id!r} is not registered as a funder")
            entry = open_line(command, caller.institution_id, level, existing, years)
        else:
            if existing is None:
                raise LineNotFound(f"no funding line {command.line_id!r}", "line_id")
            entry = change_line(existing, command, caller.institution_id)

        event = _event(entry, correlation_id)
        try:
            entry_id = await lines.save(conn, entry, pushed_by=caller.institution_id, key_id=caller.key_id,
                                        channel=caller.channel, event_id=event.event_id,
                                        correlation_id=correlation_id)
        except asyncpg.UniqueViolationError as exc:
            raise LineAlreadyExists(f"line {command.line_id!r} already exists", "line_id") from exc
        await outbox.append(conn, topics.FUNDING, [event])
        body = {
            "event_id": str(event.event_id), "event_type": event.type, "entry_id": entry_id,
            "line_id": entry.line.line_id, "line_version": entry.line.version,
            "committed_cents": entry.line.committed_cents, "status": entry.line.status.value,
        }
        await idempotency.complete(conn, caller.institution_id, idempotency_key, 202, body)
        return Outcome(202, body, replayed=False)


def _event(entry: LedgerEntry, correlation_id: str) -> Envelope:
    line = entry.line
    payload = _EVENT_OF_KIND[entry.kind](
        line_id=line.line_id, institution_id=line.institution_id, level=line.level,
        objective_id=line.objective_id, fiscal_year=line.fiscal_year,
        committed_cents=line.committed_cents, disbursed_cents=line.disbursed_cents,
        line_version=line.version, delta_cents=entry.delta_cents, reason=entry.reason,
    )
    # Keyed by objective: every event that moves one objective's coverage is in one
    # partition, in the order the ledger recorded it.
    return Envelope.wrap(payload, key=line.objective_id, producer="funding", correlation_id=correlation_id)


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)
