"""asyncpg adapter for the objectives and plan nodes this service knows exist (a projection
of the objectives service's ObjectiveDefined events)."""

from collections.abc import Iterable

import asyncpg


async def record(conn: asyncpg.Connection, objective_id: str, kind: str | None, plan_id: str | None) -> None:
    """Know the node; a later definition (a plan edited) updates its kind and plan. A
    declaration that names it (kind None) never erases what a definition said."""
    await conn.execute(
        "INSERT INTO known_objectives (objective_id, kind, plan_id) VALUES ($1, $2, $3)"
        " ON CONFLICT (objective_id) DO UPDATE SET kind = coalesce(EXCLUDED.kind, known_objectives.kind),"
        " plan_id = coalesce(EXCLUDED.plan_id, known_objectives.plan_id)",
        objective_id,
        kind,
        plan_id,
    )


async def record_named(conn: asyncpg.Connection, objective_ids: Iterable[str]) -> None:
    """Know nodes a plan file's declaration names: the objectives service defined them in the
    same transaction, so they exist even if their ObjectiveDefined has not arrived yet."""
    await conn.execute(
        "INSERT INTO known_objectives (objective_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
        sorted(set(objective_ids)),
    )


async def get(conn: asyncpg.Connection, objective_id: str) -> dict | None:
    row = await conn.fetchrow(
        "SELECT objective_id, kind, plan_id, known_since FROM known_objectives WHERE objective_id = $1", objective_id
    )
    return dict(row) if row else None
