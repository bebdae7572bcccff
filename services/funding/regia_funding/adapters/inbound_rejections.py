"""asyncpg adapter for the inbound rejections (migration 0011): one row per message refused
on the Kafka way in, written in the caller's transaction (the one that decided it)."""

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class NewRejection:
    institution_id: str | None  # None: the key did not verify
    key_id: str | None
    error: str
    rejection: str  # the JSON published on the rejected topic (ASCII)


async def add(conn: asyncpg.Connection, rejections: Sequence[NewRejection]) -> None:
    if not rejections:
        return
    await conn.execute(
        "INSERT INTO inbound_rejections (institution_id, key_id, error, rejection)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])",
        [r.institution_id for r in rejections],
        [r.key_id for r in rejections],
        [r.error for r in rejections],
        [r.rejection for r in rejections],
    )


async def page(
    conn: asyncpg.Connection, institution_id: str | None, before_id: int | None, limit: int
) -> list[asyncpg.Record]:
    """Newest first: all of them, or one institution's (never those without an institution)."""
    return await conn.fetch(
        "SELECT id, institution_id, key_id, error, rejection, rejected_at FROM inbound_rejections"
        " WHERE ($1::text IS NULL OR institution_id = $1) AND ($2::bigint IS NULL OR id < $2)"
        " ORDER BY id DESC LIMIT $3",
        institution_id,
        before_id,
        limit,
    )
