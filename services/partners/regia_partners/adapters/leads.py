"""asyncpg adapter for the lead role on objectives."""

import asyncpg


async def lock(conn: asyncpg.Connection, objective_id: str) -> None:
    """Serialise assignments of one objective until the caller commits: a row lock would
    not do, because the first assignment has no row yet to lock, and two concurrent
    identical assignments would then both publish."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('partners.lead:' || $1))", objective_id)


async def current(conn: asyncpg.Connection, objective_id: str) -> str | None:
    return await conn.fetchval("SELECT partner_id FROM objective_leads WHERE objective_id = $1", objective_id)


async def assign(conn: asyncpg.Connection, objective_id: str, partner_id: str) -> None:
    await conn.execute(
        "INSERT INTO objective_leads (objective_id, partner_id) VALUES ($1, $2)"
        " ON CONFLICT (objective_id) DO UPDATE SET partner_id = EXCLUDED.partner_id,"
        " assigned_at = now()",
        objective_id,
        partner_id,
    )


async def led_by(conn: asyncpg.Connection, partner_id: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT objective_id FROM objective_leads WHERE partner_id = $1 ORDER BY objective_id", partner_id
    )
    return [r["objective_id"] for r in rows]
