"""asyncpg adapter for the funding-line projection."""

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from ..domain.coverage import Allocation
from ..domain.lines import LineChange
from .objectives import DEFINITIONS_LOCK


@dataclass(frozen=True)
class Applied:
    """What `apply_newer` changed: for each (objective, year) whose money moved, the id of
    its last history row (in the order the changes came), and the changes applied, in that
    order (a version no newer than the one held is not among them)."""

    last_change: dict[tuple[str, int], int]
    changes: list[LineChange]


async def apply_newer(conn: asyncpg.Connection, changes: Sequence[LineChange]) -> Applied:
    """Upsert the states whose version is newer than the one held and record each applied
    version in `allocation_changes`, in ONE statement; return what it changed (`Applied`).
    `changes` must hold one state per line (see `latest_per_line`): PostgreSQL refuses to
    update a row twice in one statement.

    Set-based on purpose: the version check happens in the upsert's WHERE, against the row
    as locked, so it needs no read beforehand and no lock held between a read and a write;
    an older or repeated version updates nothing, records nothing and is not returned. The
    line's previous commitment comes out of the upsert itself (`committed_before_cents`,
    set from the locked row), so the history costs one INSERT ... SELECT on the upsert's
    RETURNING, not a query per line; the same statement adds the deltas to
    `institution_totals` (the document's money by institution, and what coverage is computed
    from: `for_keys`), the history part by the line's flag before and after
    (`history_before`). Rows are upserted in line order, so two batches touching the same
    lines lock them in the same order. It also takes the definitions lock, shared
    (`objectives.DEFINITIONS_LOCK`: why money never misses a definition made meanwhile)."""
    if not changes:
        return Applied({}, [])
    arrival = {c.state.line_id: n for n, c in enumerate(changes)}
    ordered = sorted(changes, key=lambda c: c.state.line_id)
    rows = await conn.fetch(
        "WITH k AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[],"
        " $6::bigint[], $7::bigint[], $8::int[], $9::text[], $10::text[], $11::text[], $12::timestamptz[],"
        " $13::int[], $14::bool[]) AS k(line_id, objective_id, fiscal_year, level, institution_id, committed_cents,"
        " disbursed_cents, line_version, kind, reason, correlation_id, occurred_at, arrival, history)),"
        " up AS (INSERT INTO line_allocations (line_id, objective_id, fiscal_year, level, institution_id,"
        " committed_cents, disbursed_cents, line_version, history)"
        " SELECT line_id, objective_id, fiscal_year, level, institution_id, committed_cents, disbursed_cents,"
        " line_version, history FROM k ORDER BY line_id"
        " ON CONFLICT (line_id) DO UPDATE SET committed_cents = EXCLUDED.committed_cents,"
        " disbursed_cents = EXCLUDED.disbursed_cents, line_version = EXCLUDED.line_version,"
        " history = EXCLUDED.history, history_before = line_allocations.history,"
        " committed_before_cents = line_allocations.committed_cents,"
        " disbursed_before_cents = line_allocations.disbursed_cents, updated_at = now()"
        " WHERE line_allocations.line_version < EXCLUDED.line_version"
        " RETURNING line_id, objective_id, fiscal_year, level, institution_id, committed_cents,"
        " disbursed_cents, line_version, committed_before_cents, disbursed_before_cents, history, history_before,"
        " xmax = 0 AS inserted),"  # a row inserted, not updated, has no deleting transaction
        " totals AS (INSERT INTO institution_totals (objective_id, fiscal_year, institution_id, level,"
        " committed_cents, disbursed_cents, line_count, history_cents)"
        " SELECT objective_id, fiscal_year, institution_id, level, sum(committed_cents - committed_before_cents),"
        " sum(disbursed_cents - disbursed_before_cents), count(*) FILTER (WHERE inserted),"
        " sum(CASE WHEN history THEN committed_cents ELSE 0 END"
        " - CASE WHEN history_before AND NOT inserted THEN committed_before_cents ELSE 0 END) FROM up"
        " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        " ON CONFLICT (objective_id, fiscal_year, institution_id, level) DO UPDATE SET"
        " committed_cents = institution_totals.committed_cents + EXCLUDED.committed_cents,"
        " disbursed_cents = institution_totals.disbursed_cents + EXCLUDED.disbursed_cents,"
        " line_count = institution_totals.line_count + EXCLUDED.line_count,"
        " history_cents = institution_totals.history_cents + EXCLUDED.history_cents)"
        " INSERT INTO allocation_changes (objective_id, fiscal_year, line_id, institution_id, level,"
        " line_version, kind, delta_cents, committed_before_cents, committed_after_cents,"
        " disbursed_after_cents, reason, correlation_id, occurred_at)"
        " SELECT up.objective_id, up.fiscal_year, up.line_id, up.institution_id, up.level, up.line_version,"
        " k.kind, up.committed_cents - up.committed_before_cents, up.committed_before_cents,"
        " up.committed_cents, up.disbursed_cents, k.reason, k.correlation_id, k.occurred_at"
        # The definitions lock, shared, in this statement, so that the projection's next
        # read of the known objectives sees any definition that held it (objectives.DEFINITIONS_LOCK).
        " FROM up JOIN k USING (line_id)"
        " CROSS JOIN (SELECT pg_advisory_xact_lock_shared(hashtext($15))) AS definitions_held ORDER BY k.arrival"
        " ON CONFLICT (line_id, line_version) DO NOTHING"
        " RETURNING id, objective_id, fiscal_year, line_id",
        [c.state.line_id for c in ordered],
        [c.state.objective_id for c in ordered],
        [c.state.fiscal_year for c in ordered],
        [c.state.level for c in ordered],
        [c.state.institution_id for c in ordered],
        [c.state.committed_cents for c in ordered],
        [c.state.disbursed_cents for c in ordered],
        [c.state.line_version for c in ordered],
        [c.kind for c in ordered],
        [c.reason for c in ordered],
        [c.correlation_id for c in ordered],
        [c.occurred_at for c in ordered],
        [arrival[c.state.line_id] for c in ordered],
        [c.state.history for c in ordered],
        DEFINITIONS_LOCK,
    )
    last: dict[tuple[str, int], int] = {}
    for r in rows:
        key = (r["objective_id"], r["fiscal_year"])
        last[key] = max(last.get(key, 0), r["id"])
    applied = {r["line_id"] for r in rows}
    return Applied(last, [c for c in changes if c.state.line_id in applied])


async def for_keys(
    conn: asyncpg.Connection, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], list[Allocation]]:
    """The money of each (objective, year), one allocation per level holding its lines'
    sums: all that coverage needs. Read from `institution_totals`, which the line upsert
    keeps in the same transaction (`apply_newer`), so it costs a few rows per objective-year
    (its institutions and levels) however many lines it has; summing the lines themselves
    cost every batch all the lines of every objective-year it moved (objectives migration
    0017)."""
    rows = await conn.fetch(
        "SELECT t.objective_id, t.fiscal_year, t.level, sum(t.committed_cents)::bigint AS committed_cents,"
        " sum(t.disbursed_cents)::bigint AS disbursed_cents, sum(t.history_cents)::bigint AS history_cents"
        " FROM institution_totals t"
        " JOIN unnest($1::text[], $2::int[]) AS k(objective_id, fiscal_year) USING (objective_id, fiscal_year)"
        " WHERE t.line_count > 0 GROUP BY t.objective_id, t.fiscal_year, t.level",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    found: dict[tuple[str, int], list[Allocation]] = {}
    for r in rows:
        found.setdefault((r["objective_id"], r["fiscal_year"]), []).append(
            Allocation(r["level"], r["committed_cents"], r["disbursed_cents"], r["history_cents"])
        )
    return found


async def years_of(conn: asyncpg.Connection, objective_id: str) -> set[int]:
    rows = await conn.fetch("SELECT DISTINCT fiscal_year FROM line_allocations WHERE objective_id = $1", objective_id)
    return {r["fiscal_year"] for r in rows}


async def lines_of(conn: asyncpg.Connection, objective_id: str) -> list[dict]:
    rows = await conn.fetch(
        "SELECT line_id, fiscal_year, level, institution_id, committed_cents, disbursed_cents,"
        " line_version, history FROM line_allocations WHERE objective_id = $1 ORDER BY fiscal_year, line_id",
        objective_id,
    )
    return [dict(r) for r in rows]


async def count(conn: asyncpg.Connection) -> int:
    lines: int = await conn.fetchval("SELECT count(*) FROM line_allocations")
    return lines


async def rebuild_institution_totals(conn: asyncpg.Connection) -> None:
    """institution_totals recomputed from the lines (a coverage rebuild repairs both)."""
    await conn.execute("DELETE FROM institution_totals")
    await conn.execute(
        "INSERT INTO institution_totals (objective_id, fiscal_year, institution_id, level, committed_cents,"
        " disbursed_cents, line_count, history_cents)"
        " SELECT objective_id, fiscal_year, institution_id, level, sum(committed_cents), sum(disbursed_cents),"
        " count(*), coalesce(sum(committed_cents) FILTER (WHERE history), 0) FROM line_allocations"
        " GROUP BY objective_id, fiscal_year, institution_id, level"
    )
