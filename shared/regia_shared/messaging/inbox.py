"""The idempotent consumer's record of applied events."""

from collections.abc import Sequence
from uuid import UUID

import asyncpg


async def claim_new(conn: asyncpg.Connection, consumer: str, event_ids: Sequence[UUID]) -> set[UUID]:
    """Record the ids in the caller's transaction and return those never applied before.

    One statement for the whole batch: a redelivered id conflicts and is not returned. A
    concurrent replica claiming the same id blocks on the primary key until the first
    transaction ends, so an event's effect is applied by exactly one of them.
    """
    if not event_ids:
        return set()
    rows = await conn.fetch(
        "INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[])"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        consumer,
        list(event_ids),
    )
    return {r["event_id"] for r in rows}
