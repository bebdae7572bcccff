"""Recording funding requests: the funding service's one use case, the same for every way in
(HTTP, batch, Kafka, import).

A request's Idempotency-Key record, every line it changes, their ledger entries and their
outbox events commit together or not at all, and a refused request writes nothing. Every
way in hands requests to `record_requests`: HTTP requests through group commit
(`service_layer.group_commit`), a Kafka batch in its consumer's transaction, each message a
request of its own.

Requests are recorded set-based, inside the caller's transaction, in three round trips
whatever their number: one statement reads their Idempotency-Keys' records, reads and
locks every line they name, and reads whether their callers' API keys were revoked since
they were verified (`adapters.snapshot`); they are decided all at once in memory (the pure
`domain.batch.plan`, which refuses a revoked key's request with a 401); one statement writes every line, ledger entry and outbox
event, and one more every audit row and key record (`regia_shared.statements`). A batch of
a hundred messages costs the round trips a single HTTP request costs, which runs through
the very same code as a batch of one."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.funding import (
    FundingCommitted,
    FundingDisbursed,
    FundingLineChanged,
    FundingReallocated,
    FundingRevised,
    FundingRevoked,
    FundingRolledOver,
)
from regia_shared.contracts.refusal import Refused
from regia_shared.frozen_init import direct_init
from regia_shared.messaging import outbox
from regia_shared.statements import write_together
from regia_shared.writes import WriteContext, audit_rows, joined_reasons, mark_recorded

from ..adapters import idempotency, lines, snapshot
from ..domain.batch import Accepted, Decision, Key, Refusal, Replay, Submission, plan
from ..domain.decide import lines_of, objectives_of, reserved_by
from ..domain.line import EntryKind, LedgerEntry
from ..domain.rules import is_history

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
ACCEPTED = 202


@dataclass(frozen=True)
class Caller:
    institution_id: str
    key_id: str | None
    channel: str = "http"
    instruments: frozenset[str] | None = None  # the key's scope; None: every instrument
    on_behalf: bool = False  # an administrator acting for the institution (imports)

    @property
    def recorded_as(self) -> str:
        return "admin" if self.on_behalf else self.institution_id


@direct_init
@dataclass(frozen=True)
class FundingRequest:
    """One request's worth of commands, as a way in received it."""

    caller: Caller
    commands: Sequence[Any]  # FundingCommand
    batch: bool
    idempotency_key: str
    fingerprint: str
    correlation_id: str
    # Who and why, for the request's audit row, written in its transaction when it is
    # accepted; None for a request of a bulk import, whose request has one row for all.
    write: WriteContext | None = None

    @property
    def key(self) -> Key:
        # A batch answers {"results": [...]}, a single request one result: the same key string
        # on both routes names two requests, never one replayed in the other's shape.
        return (self.caller.institution_id, "batch" if self.batch else "single", self.idempotency_key)

    def submission(self) -> Submission:
        caller = self.caller
        return Submission(
            self.key,
            self.fingerprint,
            caller.institution_id,
            caller.instruments,
            self.commands,
            self.batch,
            history=is_history(caller.channel),
            on_behalf=caller.on_behalf,
            key_id=caller.key_id,
        )


@direct_init
@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool


async def record_requests(conn: asyncpg.Connection, requests: Sequence[FundingRequest]) -> list[Outcome | Refused]:
    """Record many requests in the caller's transaction: each one's outcome, in order, or
    its refusal (which left no trace). A failure of the database escapes, for the caller to
    roll everything back and try the whole batch again."""
    submissions = [r.submission() for r in requests]
    commands = [c for r in requests for c in r.commands]
    # One round trip: the keys' records, the snapshot, with the locks `snapshot.read` lists,
    # and which of the callers' API keys were revoked since they were verified.
    earlier, taken, revoked = await snapshot.read(
        conn,
        snapshot.Wanted(
            sorted({s.key for s in submissions}),
            sorted({line for c in commands for line in lines_of(c)}),
            sorted({c.instrument_id for c in commands if hasattr(c, "instrument_id")}),
            sorted({o for c in commands for o in objectives_of(c)}),
            sorted({p for c in commands for p in reserved_by(c)}),
            sorted({s.key_id for s in submissions if s.key_id is not None}),
        ),
    )
    decisions = plan(submissions, taken, earlier, revoked)
    if not any(isinstance(d, Accepted) for d in decisions):  # refused or replayed, all: nothing to write
        return [_outcome(d, None, []) for d in decisions]
    # One round trip more: the lines, the ledger and the outbox; the answers carry the entry ids.
    bodies = await _record(conn, requests, decisions)
    accepted = [(r, body) for r, d, body in zip(requests, decisions, bodies, strict=True) if isinstance(d, Accepted)]
    audited = [_audited(r, body) for r, body in accepted if r.write is not None]
    keys = {r.key: (r.fingerprint, ACCEPTED, body or {}) for r, body in accepted}
    # And one for the audit rows (part of the write, committed with it) and the keys, last.
    done = await write_together(conn, [*([audit_rows(audited)] if audited else []), idempotency.recording(keys)])
    mark_recorded(audited)
    idempotency.check_recorded(keys, done[-1].count)
    return [_outcome(d, body, bodies) for d, body in zip(decisions, bodies, strict=True)]


def _outcome(
    decision: Decision, body: dict[str, Any] | None, bodies: Sequence[dict[str, Any] | None]
) -> Outcome | Refused:
    """A request's outcome: its refusal, the answer it replays, or its own `body`."""
    if isinstance(decision, Refusal):
        return decision.error
    if isinstance(decision, Replay) and decision.earlier is not None:
        return Outcome(decision.earlier.status, decision.earlier.body, replayed=True)
    if isinstance(decision, Replay):  # of a request earlier in this group
        return Outcome(ACCEPTED, bodies[decision.of_index or 0] or {}, replayed=True)
    return Outcome(ACCEPTED, body or {}, replayed=False)


async def _record(
    conn: asyncpg.Connection, requests: Sequence[FundingRequest], decisions: Sequence[Decision]
) -> list[dict[str, Any] | None]:
    """Write the accepted submissions' entries and events; the body each one answers."""
    entries: list[LedgerEntry] = []
    recorded: list[lines.Recorded] = []
    events: list[Envelope] = []
    for request, decision in zip(requests, decisions, strict=True):
        if isinstance(decision, Accepted):
            caller = request.caller
            for made in decision.entries:
                for entry in made:
                    event = _event(entry, request.correlation_id)
                    entries.append(entry)
                    events.append(event)
                    recorded.append(
                        lines.Recorded(
                            caller.recorded_as, caller.key_id, caller.channel, event.event_id, request.correlation_id
                        )
                    )
    written = await write_together(conn, [*lines.saved(entries, recorded), outbox.appended(topics.FUNDING, events)])
    entry_ids = iter(lines.entry_ids(recorded, written[-2]))
    pairs = iter(zip(entries, events, strict=True))
    bodies: list[dict[str, Any] | None] = []
    for request, decision in zip(requests, decisions, strict=True):
        if not isinstance(decision, Accepted):
            bodies.append(None)
            continue
        results = [_result([(*next(pairs), next(entry_ids)) for _ in made]) for made in decision.entries]
        bodies.append({"results": results} if request.batch else results[0])
    return bodies


def _audited(request: FundingRequest, body: dict[str, Any] | None) -> tuple[WriteContext, str | None, dict[str, Any]]:
    """An accepted request's audit row: the ledger entries and events it wrote, by their
    ids; its reason is the request's, or its commands' own."""
    write = request.write
    assert write is not None
    results = (body or {}).get("results", [body] if body else [])
    entries, events, line_ids = [], [], []
    for result in results:
        entries.append(result["entry_id"])
        events.append(result["event_id"])
        line_ids.append(result["line_id"])
        if counterpart := result.get("counterpart"):
            events.append(counterpart["event_id"])
            line_ids.append(counterpart["line_id"])
    if write.reason is None:
        write.reason = joined_reasons([c.reason for c in request.commands])
    lines_changed = sorted(set(line_ids))
    subject = f"line:{lines_changed[0]}" if len(lines_changed) == 1 else f"institution:{request.caller.institution_id}"
    return (
        write,
        subject,
        {"entry_ids": entries, "event_ids": events, "line_ids": lines_changed, "events": len(results)},
    )


def _result(written: list[tuple[LedgerEntry, Envelope, int]]) -> dict[str, Any]:
    """The answer for one command: its (first) entry, and the counterpart of a reallocation."""
    (entry, event, entry_id), *rest = written
    line = entry.line
    body = {
        "event_id": str(event.event_id),
        "event_type": event.type,
        "entry_id": entry_id,
        "line_id": line.line_id,
        "line_version": line.version,
        "committed_cents": line.committed_cents,
        "disbursed_cents": line.disbursed_cents,
        "status": line.status.value,
    }
    if rest:
        other, other_event, _ = rest[0]
        body["counterpart"] = {
            "line_id": other.line.line_id,
            "line_version": other.line.version,
            "committed_cents": other.line.committed_cents,
            "event_id": str(other_event.event_id),
        }
    return body


async def append(
    conn: asyncpg.Connection,
    entries: list[LedgerEntry],
    *,
    pushed_by: str,
    key_id: str | None,
    channel: str,
    correlation_id: str,
) -> list[tuple[int, Envelope]]:
    """Append entries decided elsewhere (the year-end roll-over) with their events."""
    events = [_event(e, correlation_id) for e in entries]
    recorded = [lines.Recorded(pushed_by, key_id, channel, e.event_id, correlation_id) for e in events]
    written = await write_together(conn, [*lines.saved(entries, recorded), outbox.appended(topics.FUNDING, events)])
    return list(zip(lines.entry_ids(recorded, written[-2]), events, strict=True))


def _event(entry: LedgerEntry, correlation_id: str) -> Envelope:
    line = entry.line
    payload = _EVENT_OF_KIND[entry.kind](
        line_id=line.line_id,
        institution_id=line.institution_id,
        level=line.level,
        objective_id=line.objective_id,
        fiscal_year=line.fiscal_year,
        committed_cents=line.committed_cents,
        disbursed_cents=line.disbursed_cents,
        line_version=line.version,
        delta_cents=entry.committed_delta_cents,
        reason=entry.reason,
        instrument_id=line.instrument_id,
        disbursed_delta_cents=entry.disbursed_delta_cents,
        counterpart_line_id=entry.counterpart_line_id,
        cup=line.cup,
        source_ref=line.source_ref,
        source_status=line.source_status,
        act_date=entry.act_date,
        history=line.history,
    )
    # Keyed by objective: every event that moves one objective's coverage is in one
    # partition, in the order the ledger recorded it.
    return Envelope.wrap(payload, key=line.objective_id, producer="funding", correlation_id=correlation_id)
