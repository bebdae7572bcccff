"""asyncpg adapter for alerts waiting for their message (table waiting_alerts)."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from regia_shared.statements import Write

from ..domain.grouping import OpenGroup
from ..domain.occurrence_codec import decode
from ..domain.planning import QueuedAlert
from ..domain.waiting import Waiting

_ENTRY = (
    "cause_event_id",
    "email",
    "contact_id",
    "partner_id",
    "recipient_name",
    "language",
    "correlation_id",
    "objective_id",
    "trigger",
    "subject",
    "section_text",
    "section_html",
    "cadence",
    "due_at",
    "origin_at",
)
_TYPES = ("uuid",) + ("text",) * (len(_ENTRY) - 3) + ("timestamptz", "timestamptz")
_WAITING = (
    "cause_event_id, email, contact_id, partner_id, recipient_name, language, correlation_id, objective_id,"
    " trigger, rules, subject, section_text, section_html, created_at, cadence, occurrence, origin_at, seq"
)


async def add(conn: asyncpg.Connection, entries: Sequence[QueuedAlert]) -> set[tuple[UUID, str]]:
    """Queue the alerts not queued yet (a redelivered event queues nothing); returns the
    (cause event, address) of those."""
    if not entries:
        return set()
    n = len(_ENTRY)
    arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate(_TYPES, start=1))
    rows = await conn.fetch(
        f"INSERT INTO waiting_alerts ({', '.join(_ENTRY)}, rules, occurrence)"
        f" SELECT {', '.join(_ENTRY)}, string_to_array(rules, ','), occurrence::jsonb"
        f" FROM unnest({arrays}, ${n + 1}::text[], ${n + 2}::text[])"
        f" WITH ORDINALITY AS t({', '.join(_ENTRY)}, rules, occurrence, position)"
        # In the order given (the events' order): `seq` numbers them so.
        " ORDER BY position ON CONFLICT DO NOTHING RETURNING cause_event_id, email",
        *[[getattr(e, column) for e in entries] for column in _ENTRY],
        [",".join(e.rules) for e in entries],
        [json.dumps(e.occurrence, ensure_ascii=False) for e in entries],
    )
    return {(r["cause_event_id"], r["email"]) for r in rows}


async def open_groups(conn: asyncpg.Connection) -> list[OpenGroup]:
    """Each person with alerts waiting for their grouping window, summed up."""
    rows = await conn.fetch(
        "SELECT address, min(first) AS first, max(last) AS last, min(last) AS quietest FROM ("
        "  SELECT lower(email) AS address, correlation_id, min(created_at) AS first, max(created_at) AS last"
        "  FROM waiting_alerts WHERE message_id IS NULL AND cadence = 'immediate' GROUP BY 1, 2"
        ") AS causes GROUP BY address"
    )
    return [OpenGroup(r["address"], r["first"], r["last"], r["quietest"]) for r in rows]


async def lock_immediate(conn: asyncpg.Connection, addresses: Sequence[str], *, limit: int = 20000) -> list[Waiting]:
    """The waiting immediate alerts of these people, locked, oldest first. SKIP LOCKED: two
    replicas putting messages together at once split the work instead of waiting."""
    rows = await conn.fetch(
        f"SELECT {_WAITING} FROM waiting_alerts WHERE message_id IS NULL AND cadence = 'immediate'"
        " AND lower(email) = ANY($1::text[]) ORDER BY created_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED",
        list(addresses),
        limit,
    )
    return [_waiting(r) for r in rows]


async def lock_digests(
    conn: asyncpg.Connection, *, due_by: datetime | None, contact_id: str | None = None, limit: int = 20000
) -> list[Waiting]:
    """Alerts waiting for a digest, locked: those due by `due_by` (None: all, whatever their
    cadence: an administrator's "send now"), of one contact or all."""
    rows = await conn.fetch(
        f"SELECT {_WAITING} FROM waiting_alerts WHERE message_id IS NULL"
        " AND ($1::timestamptz IS NULL OR (due_at <= $1 AND cadence <> 'immediate'))"
        " AND ($2::text IS NULL OR contact_id = $2)"
        " ORDER BY created_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED",
        due_by,
        contact_id,
        limit,
    )
    return [_waiting(r) for r in rows]


def marking_carried(carried: Sequence[tuple[UUID, Sequence[Waiting], bool]]) -> Write:
    """The statement marking each message's alerts as carried by it (or, settled, by none:
    their changes cancelled out), for every message at once; for a caller that joins it with
    its other writes (`regia_shared.statements`)."""
    rows = [(message_id, w.cause_event_id, w.email, settled) for message_id, items, settled in carried for w in items]
    return Write(
        "UPDATE waiting_alerts SET message_id = t.m, settled = t.s"
        " FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bool[]) AS t(m, c, e, s)"
        " WHERE cause_event_id = t.c AND email = t.e",
        [[r[i] for r in rows] for i in range(4)],
    )


async def waiting_of(
    conn: asyncpg.Connection, contact_id: str, *, after: Sequence[Any] | None = None, limit: int | None = None
) -> list[dict]:
    """The alerts waiting for a person, oldest first, from just after the key `after` (a
    row's `created_at` and `seq`) when given."""
    created_at, seq = (after[0], after[1]) if after else (None, None)
    rows = await conn.fetch(
        "SELECT cause_event_id, email, objective_id, trigger, rules, subject, cadence, due_at, created_at, seq"
        " FROM waiting_alerts WHERE contact_id = $1 AND message_id IS NULL"
        " AND ($3::timestamptz IS NULL OR (created_at, seq) > ($3::timestamptz, $4::bigint))"
        " ORDER BY created_at, seq LIMIT $2",
        contact_id,
        limit,
        created_at,
        seq,
    )
    return [dict(r) for r in rows]


def _waiting(row: asyncpg.Record) -> Waiting:
    stored = row["occurrence"]
    return Waiting(
        **{
            **dict(row),
            "rules": tuple(row["rules"]),
            "occurrence": decode(json.loads(stored) if isinstance(stored, str) else stored),
        }
    )
