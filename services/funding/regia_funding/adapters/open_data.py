"""Reading the IATI open-data file: a chunk of objectives at a time (keyset on the id),
and the chunk's ledger entries through one server-side cursor, all inside one read-only
REPEATABLE READ transaction: the file is one consistent snapshot however long it takes
to send, and neither the objectives nor one objective's entries are ever all in memory
(a region's 200,000 objectives and 1,000,000 lines included). Set-based, parameterised.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from ..domain.exports.entries import ExportEntry
from ..domain.exports.iati_xml import Activity, Funder
from .ledger_export import ENTRY_COLUMNS

PREFETCH = 1000
ACTIVITY_CHUNK = 500


@asynccontextmanager
async def snapshot(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        yield conn


# Depth walks up from the chunk's own objectives (a plan is a handful of levels deep),
# never over the whole table.
_ACTIVITIES = """
WITH RECURSIVE chunk AS (
    SELECT * FROM known_objectives
    WHERE ($1::text IS NULL OR objective_id > $1) AND ($2::text IS NULL OR plan_id = $2)
    ORDER BY objective_id LIMIT $3
), up (objective_id, ancestor, depth, seen) AS (
    SELECT objective_id, parent_id, 1, ARRAY[objective_id] FROM chunk
    UNION ALL
    SELECT up.objective_id, o.parent_id, up.depth + 1, up.seen || o.objective_id
    FROM up JOIN known_objectives o ON o.objective_id = up.ancestor
    WHERE NOT o.objective_id = ANY(up.seen)
)
SELECT c.objective_id, c.title, c.kind, c.plan_id, c.parent_id, c.updated_at, c.needs, d.depth,
       ARRAY(SELECT k.objective_id FROM known_objectives k WHERE k.parent_id = c.objective_id
             ORDER BY k.objective_id) AS children,
       ARRAY(SELECT DISTINCT l.fiscal_year FROM funding_lines l WHERE l.objective_id = c.objective_id
             ORDER BY 1) AS line_years,
       coalesce((SELECT json_agg(json_build_array(f.institution_id, i.name, f.level)
                                 ORDER BY f.institution_id, f.level)
                 FROM (SELECT DISTINCT institution_id, level FROM funding_lines
                       WHERE objective_id = c.objective_id) f
                 LEFT JOIN institutions i ON i.institution_id = f.institution_id), '[]') AS funders
FROM chunk c
JOIN (SELECT objective_id, max(depth) AS depth FROM up GROUP BY objective_id) d ON d.objective_id = c.objective_id
ORDER BY c.objective_id
"""

_ENTRIES = (
    f"SELECT {ENTRY_COLUMNS} FROM funding_lines l JOIN ledger_entries e ON e.line_id = l.line_id"
    " LEFT JOIN institutions i ON i.institution_id = l.institution_id"
    " LEFT JOIN known_objectives o ON o.objective_id = l.objective_id"
    " WHERE l.objective_id = ANY($1::text[]) ORDER BY l.objective_id, e.entry_id"
)


def _activity(r: asyncpg.Record) -> Activity:
    row = dict(r)
    needs, funders = json.loads(row.pop("needs")), json.loads(row.pop("funders"))
    return Activity(
        **row,
        needs=[(int(year), int(cents)) for year, cents in needs],
        funders=[Funder(institution_id, name, level) for institution_id, name, level in funders],
    )


async def activities(
    conn: asyncpg.Connection, plan_id: str | None, chunk: int = ACTIVITY_CHUNK
) -> AsyncIterator[Activity | ExportEntry]:
    """Each activity followed by its ledger entries, oldest first, in objective id order."""
    after: str | None = None
    while True:
        found = [_activity(r) for r in await conn.fetch(_ACTIVITIES, after, plan_id, chunk)]
        if not found:
            return
        entries = conn.cursor(_ENTRIES, [a.objective_id for a in found], prefetch=PREFETCH).__aiter__()
        held: asyncpg.Record | None = await anext(entries, None)
        for activity in found:
            yield activity
            while held is not None and held["objective_id"] == activity.objective_id:
                yield ExportEntry(**dict(held))
                held = await anext(entries, None)
        after = found[-1].objective_id
        if len(found) < chunk:
            return
