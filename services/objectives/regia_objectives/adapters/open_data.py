"""Reading the open data (objectives.csv): streamed through a server-side cursor inside one read-only
REPEATABLE READ transaction, so a file is one consistent snapshot however long it takes
to send, and only a chunk of rows is in memory at a time (a region's 200,000 objectives
and 1,000,000 lines included). Every statement is set-based and parameterised.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from ..domain.open_data import ObjectiveYear

PREFETCH = 1000


@asynccontextmanager
async def snapshot(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        yield conn


_OBJECTIVE_YEARS = """
SELECT o.objective_id, o.title, o.kind, o.plan_id, p.title AS plan_title, p.territory, o.parent_id,
       l.partner_id AS lead, o.illustrative, o.at_risk_threshold_pct, c.fiscal_year, c.need_cents,
       c.committed_cents, least(coalesce(c.counted_cents, c.committed_cents), c.need_cents) AS counted_cents,
       c.disbursed_cents, c.coverage_bp, c.status, c.status_since, c.committed_by_level
FROM objectives o
LEFT JOIN plans p ON p.plan_id = o.plan_id
LEFT JOIN node_leads l ON l.objective_id = o.objective_id
LEFT JOIN coverage c ON c.objective_id = o.objective_id AND ($2::int IS NULL OR c.fiscal_year = $2)
WHERE ($1::text IS NULL OR o.plan_id = $1) AND ($2::int IS NULL OR c.fiscal_year IS NOT NULL)
ORDER BY o.objective_id, c.fiscal_year
"""


async def objective_years(
    conn: asyncpg.Connection, plan_id: str | None, fiscal_year: int | None
) -> AsyncIterator[ObjectiveYear]:
    """Every objective (of one plan, if given) with each of its years (or that one)."""
    async for r in conn.cursor(_OBJECTIVE_YEARS, plan_id, fiscal_year, prefetch=PREFETCH):
        row = dict(r)
        by_level = row.pop("committed_by_level")
        yield ObjectiveYear(**row, committed_by_level=json.loads(by_level) if by_level is not None else None)
