"""asyncpg adapter for the funding-line projection."""

from collections.abc import Sequence

import asyncpg

from ..domain.coverage import Allocation
from ..domain.lines import LineState


async def apply_newer(conn: asyncpg.Connection, states: Sequence[LineState]) -> set[tuple[str, int]]:
    """Upsert the states whose version is newer than the one held, in one statement;
    return the (objective, year) pairs whose money changed. `states` must hold one state
    per line (see `latest_per_line`): PostgreSQL refuses to update a row twice in one
    statement.

    Set-based on purpose: the version check happens in the upsert's WHERE, against the row
    as locked, so it needs no read beforehand and no lock held between a read and a write;
    an older or repeated version updates nothing and is not returned. Rows are upserted in
    line order, so two batches touching the same lines lock them in the same order."""
    if not states:
        return set()
    states = sorted(states, key=lambda s: s.line_id)
    rows = await conn.fetch(
        "INSERT INTO line_allocations (line_id, objective_id, fiscal_year, level, institution_id,"
        " committed_cents, disbursed_cents, line_version)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[],"
        " $6::bigint[], $7::bigint[], $8::int[])"
        " ON CONFLICT (line_id) DO UPDATE SET committed_cents = EXCLUDED.committed_cents,"
        " disbursed_cents = EXCLUDED.disbursed_cents, line_version = EXCLUDED.line_version,"
        " updated_at = now()"
        " WHERE line_allocations.line_version < EXCLUDED.line_version"
        " RETURNING objective_id, fiscal_year",
        [s.line_id for s in states],
        [s.objective_id for s in states],
        [s.fiscal_year for s in states],
        [s.level for s in states],
        [s.institution_id for s in states],
        [s.committed_cents for s in states],
        [s.disbursed_cents for s in states],
        [s.line_version for s in states],
    )
    return {(r["objective_id"], r["fiscal_year"]) for r in rows}


async def for_keys(
    conn: asyncpg.Connection, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], list[Allocation]]:
    """The money of each (objective, year), one allocation per level holding its lines'
    sums: all that coverage needs, in as many rows as levels rather than as lines (an
    objective funded by hundreds of lines costs no more to recompute than one)."""
    rows = await conn.fetch(
        "SELECT a.objective_id, a.fiscal_year, a.level, sum(a.committed_cents)::bigint AS committed_cents,"
        " sum(a.disbursed_cents)::bigint AS disbursed_cents FROM line_allocations a"
        " JOIN unnest($1::text[], $2::int[]) AS k(objective_id, fiscal_year)"
        " USING (objective_id, fiscal_year) GROUP BY a.objective_id, a.fiscal_year, a.level",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    found: dict[tuple[str, int], list[Allocation]] = {}
    for r in rows:
        found.setdefault((r["objective_id"], r["fiscal_year"]), []).append(
            Allocation(r["level"], r["committed_cents"], r["disbursed_cents"])
        )
    return found


async def years_of(conn: asyncpg.Connection, objective_id: str) -> set[int]:
    rows = await conn.fetch("SELECT DISTINCT fiscal_year FROM line_allocations WHERE objective_id = $1", objective_id)
    return {r["fiscal_year"] for r in rows}


async def lines_of(conn: asyncpg.Connection, objective_id: str) -> list[dict]:
    rows = await conn.fetch(
        "SELECT line_id, fiscal_year, level, institution_id, committed_cents, disbursed_cents,"
        " line_version FROM line_allocations WHERE objective_id = $1 ORDER BY fiscal_year, line_id",
        objective_id,
    )
    return [dict(r) for r in rows]


async def count(conn: asyncpg.Connection) -> int:
    lines: int = await conn.fetchval("SELECT count(*) FROM line_allocations")
    return lines
