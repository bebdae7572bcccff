"""asyncpg adapter for what the notifier knows of objectives: titles, plans, parents,
kinds and thresholds (from ObjectiveDefined), the last committed amount of each
objective-year and its split by level of government (from ObjectiveCoverageChanged),
against which a drop in funding is measured, and each objective-year's current status
(from its status and coverage events)."""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

import asyncpg

from regia_shared.contracts.events.objectives import CoverageStatus, ObjectiveDefined

from ..domain.occurrences import PlanNode, YearState

# A plan is a few levels deep (vision, programme, objective, action); a parent chain longer
# than this is a cycle in what was defined, and is cut there.
_MAX_DEPTH = 32


async def define(conn: asyncpg.Connection, o: ObjectiveDefined) -> None:
    await conn.execute(
        "INSERT INTO objectives (objective_id, title, plan_id, parent_id, kind, at_risk_threshold_pct)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (objective_id) DO UPDATE SET title = EXCLUDED.title, plan_id = EXCLUDED.plan_id,"
        " parent_id = EXCLUDED.parent_id, kind = EXCLUDED.kind,"
        " at_risk_threshold_pct = EXCLUDED.at_risk_threshold_pct",
        o.objective_id,
        o.title,
        o.plan_id,
        o.parent_id,
        o.kind,
        o.at_risk_threshold_pct,
    )


async def paths_of(conn: asyncpg.Connection, objective_ids: Iterable[str]) -> dict[str, tuple[PlanNode, ...]]:
    """Each known objective's nodes from the root of its plan down to itself, as far as
    its ancestors are known (a parent not defined yet ends the path there); one statement."""
    ids = sorted(set(objective_ids))
    if not ids:
        return {}
    rows = await conn.fetch(
        "WITH RECURSIVE up AS ("
        " SELECT o.objective_id AS start, o.objective_id, o.title, o.kind, o.parent_id, 0 AS depth"
        " FROM objectives o WHERE o.objective_id = ANY($1::text[])"
        " UNION ALL"
        " SELECT up.start, p.objective_id, p.title, p.kind, p.parent_id, up.depth + 1"
        " FROM up JOIN objectives p ON p.objective_id = up.parent_id WHERE up.depth < $2)"
        " SELECT start, objective_id, title, kind FROM up ORDER BY start, depth DESC",
        ids,
        _MAX_DEPTH,
    )
    paths: dict[str, list[PlanNode]] = {}
    for r in rows:
        paths.setdefault(r["start"], []).append(PlanNode(r["objective_id"], r["title"], r["kind"]))
    return {start: tuple(nodes) for start, nodes in paths.items()}


async def thresholds_of(conn: asyncpg.Connection, objective_ids: Iterable[str]) -> dict[str, int]:
    """Each known objective's at-risk threshold, as last defined."""
    rows = await conn.fetch(
        "SELECT objective_id, at_risk_threshold_pct FROM objectives"
        " WHERE objective_id = ANY($1::text[]) AND at_risk_threshold_pct IS NOT NULL",
        sorted(set(objective_ids)),
    )
    return {r["objective_id"]: r["at_risk_threshold_pct"] for r in rows}


async def levels_of(
    conn: asyncpg.Connection, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], tuple[int, dict[str, int]]]:
    """Each known objective-year's last committed amount and its split by level."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = await conn.fetch(
        "SELECT c.objective_id, c.fiscal_year, c.committed_cents, c.committed_by_level FROM objective_commitments c"
        " JOIN unnest($1::text[], $2::int[]) AS k(objective_id, fiscal_year) USING (objective_id, fiscal_year)"
        " WHERE c.committed_by_level IS NOT NULL",
        [k[0] for k in wanted],
        [k[1] for k in wanted],
    )
    return {
        (r["objective_id"], r["fiscal_year"]): (r["committed_cents"], json.loads(r["committed_by_level"])) for r in rows
    }


async def one(conn: asyncpg.Connection, objective_id: str) -> dict | None:
    row = await conn.fetchrow("SELECT title, plan_id FROM objectives WHERE objective_id = $1", objective_id)
    return None if row is None else dict(row)


async def title_of(conn: asyncpg.Connection, objective_id: str) -> str | None:
    return await conn.fetchval("SELECT title FROM objectives WHERE objective_id = $1", objective_id)


async def of_plan(conn: asyncpg.Connection, plan_id: str) -> tuple[str, ...]:
    """The plan's nodes, the plan's own id among them (a network may be formed around it)."""
    rows = await conn.fetch(
        "SELECT objective_id FROM objectives WHERE plan_id = $1 OR objective_id = $1 ORDER BY objective_id", plan_id
    )
    return tuple({plan_id, *(r["objective_id"] for r in rows)})


async def swap_committed(
    conn: asyncpg.Connection, changes: Sequence[tuple[str, int, int, dict[str, int]]]
) -> list[int | None]:
    """Record each (objective, year, committed, committed by level) in turn; returns, for
    each, the amount it replaces (None the first time), in two statements for the whole batch.

    Coverage events of one objective come in order (one key, one partition), and the
    consumer hands a batch over in order, so "the one before" is the previous event's:
    the one held, or the previous change of the same objective-year in this batch. The
    rows are locked in key order, the one order every batch takes them in."""
    if not changes:
        return []
    keys = sorted({(objective, year) for objective, year, _, _ in changes})
    rows = await conn.fetch(
        "SELECT c.objective_id, c.fiscal_year, c.committed_cents FROM objective_commitments c"
        " JOIN unnest($1::text[], $2::int[]) AS k(objective_id, fiscal_year) USING (objective_id, fiscal_year)"
        " ORDER BY c.objective_id, c.fiscal_year FOR UPDATE OF c",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    held: dict[tuple[str, int], int] = {(r["objective_id"], r["fiscal_year"]): r["committed_cents"] for r in rows}
    by_level: dict[tuple[str, int], dict[str, int]] = {}
    before: list[int | None] = []
    for objective, year, committed, levels in changes:
        before.append(held.get((objective, year)))
        held[(objective, year)] = committed
        by_level[(objective, year)] = levels
    await conn.execute(
        "INSERT INTO objective_commitments (objective_id, fiscal_year, committed_cents, committed_by_level)"
        " SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::jsonb[]) ORDER BY 1, 2"
        " ON CONFLICT (objective_id, fiscal_year) DO UPDATE SET committed_cents = EXCLUDED.committed_cents,"
        " committed_by_level = EXCLUDED.committed_by_level",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [held[k] for k in keys],
        [json.dumps(by_level[k], sort_keys=True) for k in keys],
    )
    return before


async def record_states(
    conn: asyncpg.Connection, states: Sequence[tuple[str, int, str, YearState, datetime]]
) -> set[str]:
    """Each (objective, year, title, state, when) as the year's current state; an older
    event redelivered late changes nothing. Returns the objectives of which a year's first
    state was recorded (where a briefing may be owed: adapters.owed_briefings).

    One statement for the batch: of each objective-year's states the newest is written
    (the last of those as new, as writing them in turn would leave), then only over an
    older one held. Row by row, this was one statement per coverage event."""
    if not states:
        return set()
    newest: dict[tuple[str, int], tuple[str, int, str, YearState, datetime]] = {}
    for state in states:
        held = newest.get((state[0], state[1]))
        if held is None or held[4] <= state[4]:
            newest[(state[0], state[1])] = state
    rows = [newest[k] for k in sorted(newest)]  # key order: the order every batch locks them in
    inserted = await conn.fetch(
        "INSERT INTO objective_year_states (objective_id, fiscal_year, title, status, coverage_bp,"
        " need_cents, committed_cents, changed_at)"
        " SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],"
        " $7::bigint[], $8::timestamptz[])"
        " ON CONFLICT (objective_id, fiscal_year) DO UPDATE SET title = EXCLUDED.title,"
        " status = EXCLUDED.status, coverage_bp = EXCLUDED.coverage_bp, need_cents = EXCLUDED.need_cents,"
        " committed_cents = EXCLUDED.committed_cents, changed_at = EXCLUDED.changed_at"
        " WHERE objective_year_states.changed_at <= EXCLUDED.changed_at"
        # A row inserted, not updated, has no deleting transaction: the year's first state.
        " RETURNING objective_id, xmax = 0 AS first",
        [o for o, *_ in rows],
        [y for _, y, *_ in rows],
        [title for _, _, title, _, _ in rows],
        [s.status.value for *_, s, _ in rows],
        [s.coverage_bp for *_, s, _ in rows],
        [s.need_cents for *_, s, _ in rows],
        [s.committed_cents for *_, s, _ in rows],
        [at for *_, at in rows],
    )
    return {r["objective_id"] for r in inserted if r["first"]}


async def states_of(conn: asyncpg.Connection, objective_id: str) -> tuple[str | None, list[YearState]]:
    """The objective's title (as its last status event gave it) and every year's state."""
    rows = await conn.fetch(
        "SELECT fiscal_year, title, status, coverage_bp, need_cents, committed_cents FROM objective_year_states"
        " WHERE objective_id = $1 ORDER BY fiscal_year",
        objective_id,
    )
    title = await title_of(conn, objective_id) or (rows[-1]["title"] if rows else None)
    return title, [
        YearState(
            r["fiscal_year"], CoverageStatus(r["status"]), r["coverage_bp"], r["need_cents"], r["committed_cents"]
        )
        for r in rows
    ]
