"""asyncpg adapter for what the notifier knows of objectives: titles and plans (from
ObjectiveDefined) and the last committed amount of each objective-year (from
ObjectiveCoverageChanged), against which a drop in funding is measured."""

import asyncpg

from regia_shared.events.objectives import ObjectiveDefined


async def define(conn: asyncpg.Connection, o: ObjectiveDefined) -> None:
    await conn.execute(
        "INSERT INTO objectives (objective_id, title, plan_id) VALUES ($1, $2, $3)"
        " ON CONFLICT (objective_id) DO UPDATE SET title = EXCLUDED.title, plan_id = EXCLUDED.plan_id",
        o.objective_id, o.title, o.plan_id)


async def one(conn: asyncpg.Connection, objective_id: str) -> dict | None:
    row = await conn.fetchrow("SELECT title, plan_id FROM objectives WHERE objective_id = $1", objective_id)
    return None if row is None else dict(row)


async def title_of(conn: asyncpg.Connection, objective_id: str) -> str | None:
    return await conn.fetchval("SELECT title FROM objectives WHERE objective_id = $1", objective_id)


async def of_plan(conn: asyncpg.Connection, plan_id: str) -> tuple[str, ...]:
    """The plan's nodes, the plan's own id among them (a network may be formed around it)."""
    rows = await conn.fetch(
        "SELECT objective_id FROM objectives WHERE plan_id = $1 OR objective_id = $1"
        " ORDER BY objective_id", plan_id)
    return tuple({plan_id, *(r["objective_id"] for r in rows)})


async def swap_committed(conn: asyncpg.Connection, objective_id: str, fiscal_year: int,
                         committed_cents: int) -> int | None:
    """Record the new committed amount; returns the one it replaces (None the first time).

    Coverage events of one objective come in order (one key, one partition), and the
    consumer applies a batch in order, so "the one before" is the previous event's."""
    return await conn.fetchval(
        "WITH before AS (SELECT committed_cents FROM objective_commitments"
        "                WHERE objective_id = $1 AND fiscal_year = $2 FOR UPDATE),"
        " saved AS (INSERT INTO objective_commitments (objective_id, fiscal_year, committed_cents)"
        "           VALUES ($1, $2, $3) ON CONFLICT (objective_id, fiscal_year)"
        "           DO UPDATE SET committed_cents = EXCLUDED.committed_cents)"
        " SELECT committed_cents FROM before",
        objective_id, fiscal_year, committed_cents)
