"""Reading the open data: streamed through server-side cursors inside one read-only
REPEATABLE READ transaction, so a file is one consistent snapshot however long it takes
to send, and only a chunk of rows is in memory at a time (a region's 200,000 objectives
and 1,000,000 lines included). Every statement is set-based and parameterised.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from ..domain.open_data import Activity, LineChange, ObjectiveYear

PREFETCH = 1000
ACTIVITY_CHUNK = 500


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
WHERE ($1::text IS NULL OR o.plan_id = $1)
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


# A chunk of activities, keyset-paged on the objective id. Depth walks up from the chunk's
# own nodes (a plan is a handful of levels deep), never over the whole table.
_ACTIVITIES = """
WITH RECURSIVE chunk AS (
    SELECT * FROM objectives
    WHERE ($1::text IS NULL OR objective_id > $1) AND ($2::text IS NULL OR plan_id = $2)
    ORDER BY objective_id LIMIT $3
), up (objective_id, ancestor, depth) AS (
    SELECT objective_id, parent_id, 1 FROM chunk
    UNION ALL
    SELECT up.objective_id, o.parent_id, up.depth + 1 FROM up JOIN objectives o ON o.objective_id = up.ancestor
)
SELECT c.objective_id, c.title, c.kind, c.plan_id, p.title AS plan_title, p.territory, c.parent_id,
       l.partner_id AS lead, d.depth, c.created_at, c.updated_at, p.first_year, p.last_year,
       ARRAY(SELECT k.objective_id FROM objectives k WHERE k.parent_id = c.objective_id
             ORDER BY k.position, k.objective_id) AS children,
       ARRAY(SELECT n.fiscal_year FROM objective_needs n WHERE n.objective_id = c.objective_id
             ORDER BY n.fiscal_year) AS need_years,
       ARRAY(SELECT n.need_cents FROM objective_needs n WHERE n.objective_id = c.objective_id
             ORDER BY n.fiscal_year) AS need_cents,
       ARRAY(SELECT DISTINCT t.institution_id || chr(31) || t.level FROM institution_totals t
             WHERE t.objective_id = c.objective_id AND t.line_count > 0) AS funders
FROM chunk c
JOIN (SELECT objective_id, max(depth) AS depth FROM up GROUP BY objective_id) d ON d.objective_id = c.objective_id
LEFT JOIN plans p ON p.plan_id = c.plan_id
LEFT JOIN node_leads l ON l.objective_id = c.objective_id
ORDER BY c.objective_id
"""

# The line changes of a chunk's objectives, oldest first. What was paid is kept as the
# amount after each change: the change's own payment is that minus the line's previous
# applied version's (a line's versions all belong to one objective, so filtering by
# objective keeps each line's whole history in its window).
_CHANGES = """
SELECT objective_id, id AS change_id, line_id, line_version, institution_id, level, fiscal_year, kind,
       delta_cents AS committed_delta_cents,
       disbursed_after_cents - lag(disbursed_after_cents, 1, 0::bigint)
           OVER (PARTITION BY line_id ORDER BY line_version) AS disbursed_delta_cents,
       reason, occurred_at
FROM allocation_changes WHERE objective_id = ANY($1::text[])
ORDER BY objective_id, occurred_at, id
"""


def _activity(r: asyncpg.Record) -> Activity:
    row = dict(r)
    years, cents, funders = row.pop("need_years"), row.pop("need_cents"), row.pop("funders")
    return Activity(
        **row,
        needs=list(zip(years, cents, strict=True)),
        funders=sorted(tuple(f.split(chr(31), 1)) for f in funders),
    )


async def activities(
    conn: asyncpg.Connection, plan_id: str | None, chunk: int = ACTIVITY_CHUNK
) -> AsyncIterator[Activity | LineChange]:
    """Each activity followed by its line changes, in objective id order: a chunk of
    activities at a time, and the chunk's changes through one cursor, so neither the
    objectives nor one objective's changes are ever all in memory."""
    after: str | None = None
    while True:
        found = [_activity(r) for r in await conn.fetch(_ACTIVITIES, after, plan_id, chunk)]
        if not found:
            return
        changes = conn.cursor(_CHANGES, [a.objective_id for a in found], prefetch=PREFETCH).__aiter__()
        held: asyncpg.Record | None = await anext(changes, None)
        for activity in found:
            yield activity
            while held is not None and held["objective_id"] == activity.objective_id:
                row = dict(held)
                del row["objective_id"]
                yield LineChange(**row)
                held = await anext(changes, None)
        after = found[-1].objective_id
        if len(found) < chunk:
            return
