"""asyncpg adapter for reading deliveries and their attempts back (the HTTP API)."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

# next_attempt_at only means something while a delivery is still going (for SENDING it is
# when the claim expires); a finished one shows null rather than a stale time.
_SUMMARY = (
    "delivery_id, cause_event_id, correlation_id, objective_id, kind, trigger, rules, channel,"
    " recipient, recipient_name, contact_id, partner_id, language, subject, status, attempts,"
    " retry_from,"
    " CASE WHEN status IN ('PENDING', 'SENDING') THEN next_attempt_at END AS next_attempt_at,"
    " last_error, created_at, updated_at, finished_at"
)


async def listing(
    conn: asyncpg.Connection,
    *,
    objective_id: str | None = None,
    status: str | None = None,
    contact_id: str | None = None,
    recipient: str | None = None,
    after: Sequence[Any] | None = None,
    limit: int,
) -> list[dict]:
    """Newest first, from just after the key `after` (a row's `created_at` and
    `delivery_id`) when given. `recipient` is an address matched regardless of case, as
    mail is. `objective_id` finds the deliveries about it and also the grouped messages
    and digests that carried one of its alerts (their row names one objective or none)."""
    created_at, delivery_id = (after[0], after[1]) if after else (None, None)
    rows = await conn.fetch(
        f"SELECT {_SUMMARY} FROM deliveries"
        " WHERE ($1::text IS NULL OR objective_id = $1 OR delivery_id IN"
        "  (SELECT message_id FROM waiting_alerts WHERE objective_id = $1 AND message_id IS NOT NULL))"
        " AND ($2::text IS NULL OR status = $2)"
        " AND ($3::text IS NULL OR contact_id = $3) AND ($4::text IS NULL OR lower(recipient) = lower($4))"
        " AND ($6::timestamptz IS NULL OR (created_at, delivery_id) < ($6::timestamptz, $7::uuid))"
        " ORDER BY created_at DESC, delivery_id DESC LIMIT $5",
        objective_id,
        status,
        contact_id,
        recipient,
        limit,
        created_at,
        delivery_id,
    )
    return [dict(r) for r in rows]


async def one(conn: asyncpg.Connection, delivery_id: UUID) -> dict | None:
    row = await conn.fetchrow(f"SELECT {_SUMMARY}, body, body_html FROM deliveries WHERE delivery_id = $1", delivery_id)
    if row is None:
        return None
    attempts = await conn.fetch(
        "SELECT attempt, at, duration_ms, outcome, error FROM delivery_attempts"
        " WHERE delivery_id = $1 ORDER BY attempt",
        delivery_id,
    )
    return {**dict(row), "attempt_log": [dict(a) for a in attempts]}
