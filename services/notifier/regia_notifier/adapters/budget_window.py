"""asyncpg adapter for where the notifier knows the budget window starts: the last fiscal
year an annual review closed (the configured first year is a setting)."""

import asyncpg


async def last_closed_year(conn: asyncpg.Connection) -> int | None:
    return await conn.fetchval("SELECT last_closed_year FROM budget_window")


async def closed(conn: asyncpg.Connection, year: int) -> None:
    """Record that `year` was closed; an older year closed late moves nothing back."""
    await conn.execute(
        "INSERT INTO budget_window (singleton, last_closed_year) VALUES (true, $1) ON CONFLICT (singleton)"
        " DO UPDATE SET last_closed_year = GREATEST(budget_window.last_closed_year, EXCLUDED.last_closed_year)",
        year,
    )
