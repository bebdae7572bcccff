"""Recording funding requests: the funding service's one use case, the same for every way in
(HTTP, batch, Kafka, import).

A request's Idempotency-Key record, every line it changes, their ledger entries and their
outbox events commit together or not at all, and a refused request writes nothing. Every
way in hands requests to `record_requests`: HTTP requests through group commit
(`service_layer.group_commit`), a Kafka batch in its consumer's transaction, each message a
request of its own.

Requests are recorded set-based, inside the caller's transaction: look up their
Idempotency-Keys, read and lock every line they name, decide them all in memory (the pure
`domain.batch.plan`), then write every line, ledger entry, outbox event and key record with
one statement each. A batch of a hundred messages costs about ten round trips, not a
thousand; a single HTTP request runs through the very same code as a batch of one."""

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
from regia_shared.messaging import outbox
from regia_shared.writes import WriteContext, joined_reasons, record_writes

from ..adapters import idempotency, lines, references
from ..domain.batch import Accepted, Decision, Key, Refusal, Replay, Snapshot, Submission, plan
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
        )


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
    # Looked up without a lock, recorded last (idempotency.record): a concurrent request
    # taking one of these keys in between makes this transaction fail and run again.
    earlier = await idempotency.recorded(conn, sorted({s.key for s in submissions}))
    commands = [c for r in requests for c in r.commands]
    # The window first, FOR SHARE: every change checks its line's year is open, and the
    # year-end roll-over takes the window FOR UPDATE before it locks that year's lines, so
    # a change waits for a roll-over under way (and then sees its year closed) and a
    # roll-over waits for changes under way, in the same order: no deadlock.
    window = await references.window(conn, for_share=True)
    locked = await lines.lock(conn, sorted({line for c in commands for line in lines_of(c)}))
    snapshot = Snapshot(
        window,
        locked,
        await references.instruments_among(
            conn, sorted({c.instrument_id for c in commands if hasattr(c, "instrument_id")})
        ),
        await references.objectives_known_among(conn, sorted({o for c in commands for o in objectives_of(c)})),
        # Who owns the lines whose next-year ids new lines would take: a line's owner never
        # changes, so these are read without a lock.
        await lines.owners_among(conn, sorted({p for c in commands for p in reserved_by(c)} - set(locked))),
    )
    decisions = plan(submissions, snapshot, earlier)
    bodies = await _record(conn, requests, decisions)
    # Before the Idempotency-Key records: the audit rows are part of the write, committed with it.
    await record_writes(
        conn,
        [
            _audited(r, body)
            for r, d, body in zip(requests, decisions, bodies, strict=True)
            if isinstance(d, Accepted) and r.write is not None
        ],
    )
    outcomes: list[Outcome | Refused] = []
    for decision, body in zip(decisions, bodies, strict=True):
        if isinstance(decision, Refusal):
            outcomes.append(decision.error)
        elif isinstance(decision, Replay) and decision.earlier is not None:
            outcomes.append(Outcome(decision.earlier.status, decision.earlier.body, replayed=True))
        elif isinstance(decision, Replay):
            outcomes.append(Outcome(ACCEPTED, bodies[decision.of_index or 0] or {}, replayed=True))
        else:
            outcomes.append(Outcome(ACCEPTED, body or {}, replayed=False))
    await idempotency.record(
        conn,
        {
            requests[i].key: (requests[i].fingerprint, ACCEPTED, bodies[i] or {})
            for i, d in enumerate(decisions)
            if isinstance(d, Accepted)
        },
    )
    return outcomes


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
    entry_ids = iter(await lines.save_many(conn, entries, recorded))
    await outbox.append(conn, topics.FUNDING, events)
    written = iter(zip(entries, events, strict=True))
    bodies: list[dict[str, Any] | None] = []
    for request, decision in zip(requests, decisions, strict=True):
        if not isinstance(decision, Accepted):
            bodies.append(None)
            continue
        results = [_result([(*next(written), next(entry_ids)) for _ in made]) for made in decision.entries]
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
    ids = await lines.save_many(
        conn, entries, [lines.Recorded(pushed_by, key_id, channel, e.event_id, correlation_id) for e in events]
    )
    await outbox.append(conn, topics.FUNDING, events)
    return list(zip(ids, events, strict=True))


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
