"""asyncpg adapter for alerts waiting in daily digests."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from ..domain.digest import Waiting
from ..domain.planning import DigestEntry

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
    "due_at",
)
_TYPES = ("uuid",) + ("text",) * (len(_ENTRY) - 2) + ("timestamptz",)
_WAITING = (
    "cause_event_id, email, contact_id, partner_id, recipient_name, language, correlation_id,"
    " rules, subject, section_text, section_html, created_at"
)


async def add(conn: asyncpg.Connection, entries: Sequence[DigestEntry]) -> set[tuple[UUID, str]]:
    """Queue the alerts not queued yet (a redelivered event queues nothing); returns the
    (cause event, address) of those."""
    if not entries:
        return set()
    arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate(_TYPES, start=1))
    rows = await conn.fetch(
        f"INSERT INTO digest_items ({', '.join(_ENTRY)}, rules)"
        f" SELECT {', '.join(_ENTRY)}, string_to_array(rules, ',')"
        f" FROM unnest({arrays}, ${len(_ENTRY) + 1}::text[]) AS t({', '.join(_ENTRY)}, rules)"
        " ON CONFLICT DO NOTHING RETURNING cause_event_id, email",
        *[[getattr(e, column) for e in entries] for column in _ENTRY],
        [",".join(e.rules) for e in entries],
    )
    return {(r["cause_event_id"], r["email"]) for r in rows}


async def lock_waiting(
    conn: asyncpg.Connection, *, due_by: datetime | None, contact_id: str | None = None, limit: int = 5000
) -> list[Waiting]:
    """Waiting alerts, locked: those due by `due_by` (None: all), of one contact or all.
    SKIP LOCKED: two replicas flushing at once split the work instead of waiting."""
    rows = await conn.fetch(
        f"SELECT {_WAITING} FROM digest_items WHERE digest_id IS NULL"
        " AND ($1::timestamptz IS NULL OR due_at <= $1) AND ($2::text IS NULL OR contact_id = $2)"
        " ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED",
        due_by,
        contact_id,
        limit,
    )
    return [Waiting(**{**dict(r), "rules": tuple(r["rules"])}) for r in rows]


async def mark_sent(conn: asyncpg.Connection, digest_id: UUID, items: Sequence[Waiting]) -> None:
    await conn.execute(
        "UPDATE digest_items SET digest_id = $1 FROM unnest($2::uuid[], $3::text[]) AS t(c, e)"
        " WHERE cause_event_id = t.c AND email = t.e",
        digest_id,
        [w.cause_event_id for w in items],
        [w.email for w in items],
    )


async def waiting_of(conn: asyncpg.Connection, contact_id: str) -> list[dict]:
    rows = await conn.fetch(
        "SELECT cause_event_id, email, objective_id, trigger, rules, subject, due_at, created_at"
        " FROM digest_items WHERE contact_id = $1 AND digest_id IS NULL ORDER BY created_at",
        contact_id,
    )
    return [dict(r) for r in rows]
