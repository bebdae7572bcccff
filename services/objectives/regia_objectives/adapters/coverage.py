"""asyncpg adapter for the coverage projection."""

import json
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from regia_shared.contracts.events.objectives import CoverageStatus
from regia_shared.statements import Write

from ..domain.coverage import YearCoverage


def year_coverage(r: asyncpg.Record) -> YearCoverage:
    """A coverage row as the domain's YearCoverage (the reads adapter shares it)."""
    return YearCoverage(
        r["objective_id"],
        r["fiscal_year"],
        r["need_cents"],
        r["committed_cents"],
        r["disbursed_cents"],
        json.loads(r["committed_by_level"]),
        r["coverage_bp"],
        CoverageStatus(r["status"]),
        r["dominant_level"],
        r["counted_cents"],
        r["history_cents"],
    )


async def held(conn: asyncpg.Connection, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], YearCoverage]:
    # FOR UPDATE: two replicas recomputing one objective serialise here, so the status
    # transition each publishes starts from what the other committed. ORDER BY: rows are
    # locked in key order, so two batches sharing ancestors (a programme, the plan's
    # vision) queue behind each other instead of deadlocking.
    rows = await conn.fetch(
        "SELECT c.* FROM coverage c JOIN unnest($1::text[], $2::int[]) AS k(objective_id, fiscal_year)"
        " USING (objective_id, fiscal_year) ORDER BY c.objective_id, c.fiscal_year FOR UPDATE OF c",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {(r["objective_id"], r["fiscal_year"]): year_coverage(r) for r in rows}


@dataclass(frozen=True)
class Saved:
    """A row to write, with what the projection knows beside its figures: the gap to the
    threshold (stored for the at-risk order) and the history row that moved it, if any."""

    coverage: YearCoverage
    gap_to_threshold_cents: int
    last_change_id: int | None = None


async def save(conn: asyncpg.Connection, rows: Sequence[Saved]) -> None:
    """Upsert the rows with one statement (`saving`)."""
    if rows:
        statement = saving(rows)
        await conn.execute(statement.sql, *statement.args)


def saving(rows: Sequence[Saved]) -> Write:
    """The statement upserting the rows (at least one), for a caller that joins it with its
    other writes (`regia_shared.statements`). Each (objective, year) at most once: PostgreSQL
    refuses to update a row twice in one statement. `status_since` moves only when the
    status does; `last_change_id` only when a line change caused this write (a need
    edited later leaves the last line change in place)."""
    rows = sorted(rows, key=lambda s: (s.coverage.objective_id, s.coverage.fiscal_year))  # lock order, as in held()
    cs = [s.coverage for s in rows]
    return Write(
        "INSERT INTO coverage (objective_id, fiscal_year, need_cents, committed_cents, disbursed_cents,"
        " committed_by_level, coverage_bp, status, dominant_level, counted_cents, gap_to_threshold_cents,"
        " last_change_id, history_cents, status_since)"
        " SELECT k.objective_id, k.fiscal_year, k.need_cents, k.committed_cents, k.disbursed_cents,"
        " k.committed_by_level::jsonb, k.coverage_bp, k.status, k.dominant_level, k.counted_cents,"
        " k.gap_to_threshold_cents, k.last_change_id, k.history_cents, now()"
        " FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[],"
        " $7::bigint[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[])"
        " AS k(objective_id, fiscal_year, need_cents, committed_cents,"
        " disbursed_cents, committed_by_level, coverage_bp, status, dominant_level, counted_cents,"
        " gap_to_threshold_cents, last_change_id, history_cents)"
        " ON CONFLICT (objective_id, fiscal_year) DO UPDATE SET need_cents = EXCLUDED.need_cents,"
        " committed_cents = EXCLUDED.committed_cents, disbursed_cents = EXCLUDED.disbursed_cents,"
        " committed_by_level = EXCLUDED.committed_by_level, coverage_bp = EXCLUDED.coverage_bp,"
        " status = EXCLUDED.status, dominant_level = EXCLUDED.dominant_level,"
        " counted_cents = EXCLUDED.counted_cents, history_cents = EXCLUDED.history_cents, gap_to_threshold_cents = EXCLUDED.gap_to_threshold_cents,"
        " last_change_id = coalesce(EXCLUDED.last_change_id, coverage.last_change_id),"
        " status_since = CASE WHEN coverage.status = EXCLUDED.status THEN coverage.status_since ELSE now() END,"
        " updated_at = now()",
        [
            [c.objective_id for c in cs],
            [c.fiscal_year for c in cs],
            [c.need_cents for c in cs],
            [c.committed_cents for c in cs],
            [c.disbursed_cents for c in cs],
            [json.dumps(c.committed_by_level) for c in cs],
            [c.coverage_bp for c in cs],
            [c.status.value for c in cs],
            [c.dominant_level for c in cs],
            [c.counted_cents for c in cs],
            [s.gap_to_threshold_cents for s in rows],
            [s.last_change_id for s in rows],
            [c.history_cents for c in cs],
        ],
    )


async def of_objective(conn: asyncpg.Connection, objective_id: str) -> list[YearCoverage]:
    rows = await conn.fetch("SELECT * FROM coverage WHERE objective_id = $1 ORDER BY fiscal_year", objective_id)
    return [year_coverage(r) for r in rows]


async def statuses(conn: asyncpg.Connection, objective_ids: Sequence[str]) -> dict[str, list[dict]]:
    rows = await conn.fetch(
        "SELECT objective_id, fiscal_year, coverage_bp, status FROM coverage"
        " WHERE objective_id = ANY($1::text[]) ORDER BY fiscal_year",
        list(objective_ids),
    )
    found: dict[str, list[dict]] = {}
    for r in rows:
        found.setdefault(r["objective_id"], []).append(
            {"fiscal_year": r["fiscal_year"], "coverage_bp": r["coverage_bp"], "status": r["status"]}
        )
    return found


async def of_children(
    conn: asyncpg.Connection, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], list[YearCoverage]]:
    """The coverage rows of the children of each (parent, year), each a whole subtree.

    The children first, off `objectives_parent` (`= ANY`, which every plan reads by index),
    then their rows by primary key; most keys the projection asks about have no children at
    all (standalone objectives, leaves of a plan), and then coverage is not read. Written as
    one join, the plan depended on the tables' statistics: with the ones a growing table
    has, PostgreSQL hashed or looped over the whole coverage table for every batch (140 ms
    to 1.3 s a batch on 2,000 objectives), the largest single cost of the event path."""
    parents = sorted({parent for parent, _ in keys})
    children = await conn.fetch(
        "SELECT objective_id, parent_id FROM objectives WHERE parent_id = ANY($1::text[])", parents
    )
    if not children:
        return {}
    parent_of = {r["objective_id"]: r["parent_id"] for r in children}
    wanted = set(keys)
    rows = await conn.fetch(
        "SELECT * FROM coverage WHERE objective_id = ANY($1::text[]) AND fiscal_year = ANY($2::int[])",
        sorted(parent_of),
        sorted({year for _, year in keys}),
    )
    found: dict[tuple[str, int], list[YearCoverage]] = {}
    for r in rows:
        key = (parent_of[r["objective_id"]], r["fiscal_year"])
        if key in wanted:
            found.setdefault(key, []).append(year_coverage(r))
    return found


async def of_plan(
    conn: asyncpg.Connection, plan_id: str, fiscal_year: int | None = None
) -> dict[str, list[YearCoverage]]:
    # The plan's ids first, then their rows by primary key: written as a join, PostgreSQL
    # hashed the whole coverage table (230 ms at 600,000 rows for a 3,000-node plan).
    rows = await conn.fetch(
        "SELECT c.objective_id, c.fiscal_year, c.need_cents, c.committed_cents, c.disbursed_cents,"
        " c.committed_by_level, c.coverage_bp, c.status, c.dominant_level, c.counted_cents, c.history_cents"
        " FROM coverage c"
        " WHERE c.objective_id = ANY(ARRAY(SELECT objective_id FROM objectives WHERE plan_id = $1))"
        " AND ($2::int IS NULL OR c.fiscal_year = $2) ORDER BY c.fiscal_year",
        plan_id,
        fiscal_year,
    )
    found: dict[str, list[YearCoverage]] = {}
    for r in rows:
        found.setdefault(r["objective_id"], []).append(year_coverage(r))
    return found


async def lock_all(conn: asyncpg.Connection) -> None:
    """Until the transaction ends, no other rebuild and no consumer batch writes coverage."""
    await conn.execute("LOCK TABLE coverage IN EXCLUSIVE MODE")


async def delete_all(conn: asyncpg.Connection) -> None:
    await conn.execute("DELETE FROM coverage")


async def years_held(conn: asyncpg.Connection, objective_ids: Sequence[str]) -> set[int]:
    """The years any of these objectives has money in (lines that may have waited for it)
    or a coverage row for (its own money or need, or a descendant's rolled up into it)."""
    rows = await conn.fetch(
        "SELECT fiscal_year FROM line_allocations WHERE objective_id = ANY($1::text[])"
        " UNION SELECT fiscal_year FROM coverage WHERE objective_id = ANY($1::text[])",
        list(objective_ids),
    )
    return {r["fiscal_year"] for r in rows}


async def every_key(conn: asyncpg.Connection) -> list[tuple[str, int]]:
    """Every (objective, year) that has money, a need or a coverage row, in key order."""
    rows = await conn.fetch(
        "SELECT objective_id, fiscal_year FROM line_allocations"
        " UNION SELECT objective_id, fiscal_year FROM objective_needs"
        " UNION SELECT objective_id, fiscal_year FROM coverage ORDER BY 1, 2"
    )
    return [(r["objective_id"], r["fiscal_year"]) for r in rows]


async def of_plan_roots(
    conn: asyncpg.Connection, plan_id: str, fiscal_year: int | None = None
) -> dict[str, list[YearCoverage]]:
    """The coverage rows of the plan's root nodes (its own figures roll them up). The ids
    first, then their rows by primary key: as a join, the planner took most of the plan's
    nodes for roots (standalone objectives have no parent either) and hashed coverage."""
    rows = await conn.fetch(
        "SELECT c.* FROM coverage c WHERE c.objective_id = ANY(ARRAY("
        "SELECT objective_id FROM objectives WHERE plan_id = $1 AND parent_id IS NULL))"
        " AND ($2::int IS NULL OR c.fiscal_year = $2) ORDER BY c.fiscal_year",
        plan_id,
        fiscal_year,
    )
    found: dict[str, list[YearCoverage]] = {}
    for r in rows:
        found.setdefault(r["objective_id"], []).append(year_coverage(r))
    return found
