"""asyncpg adapter for where the notifier knows the budget window starts: the last fiscal
year an annual review closed (the configured first year is a setting)."""

import asyncpg

from regia_shared.statements import Write


async def last_closed_year(conn: asyncpg.Connection) -> int | None:
    return await conn.fetchval("SELECT last_closed_year FROM budget_window")


def closing(year: int) -> Write:
    """The write that records that `year` was closed, for the caller to run with its other
    writes; an older year closed late moves nothing back."""
    return Write(
        "INSERT INTO budget_window (singleton, last_closed_year) VALUES (true, $1) ON CONFLICT (singleton)"
        " DO UPDATE SET last_closed_year = GREATEST(budget_window.last_closed_year, EXCLUDED.last_closed_year)",
        [year],
    )
