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
from regia_shared.statements import Write, Written

from ..domain.occurrences import PlanNode, YearState

# A plan is a few levels deep (vision, programme, objective, action); a parent chain longer
# than this is a cycle in what was defined, and is cut there.
_MAX_DEPTH = 32


async def define(conn: asyncpg.Connection, defined: Sequence[ObjectiveDefined]) -> None:
    """Record these definitions (the last of an objective's, in the order given), in one
    statement whatever their number: a region's plan import brings thousands at once, each
    recorded with a statement of its own before (the notifier's CPU a node of a 3,000-node
    import 0.35-0.40 ms then, 0.31 ms since: docs/performance.md, the eighteenth session). Rows are
    written in objective id order, so two batches applied at once (by replicas) lock the
    rows they share in one order."""
    last = {o.objective_id: o for o in defined}
    if not last:
        return
    rows = [last[i] for i in sorted(last)]
    await conn.execute(
        "INSERT INTO objectives (objective_id, title, plan_id, parent_id, kind, at_risk_threshold_pct)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[])"
        " ON CONFLICT (objective_id) DO UPDATE SET title = EXCLUDED.title, plan_id = EXCLUDED.plan_id,"
        " parent_id = EXCLUDED.parent_id, kind = EXCLUDED.kind,"
        " at_risk_threshold_pct = EXCLUDED.at_risk_threshold_pct",
        [o.objective_id for o in rows],
        [o.title for o in rows],
        [o.plan_id for o in rows],
        [o.parent_id for o in rows],
        [o.kind for o in rows],
        [o.at_risk_threshold_pct for o in rows],
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


Key = tuple[str, int]
Change = tuple[str, int, int, dict[str, int]]  # objective, year, committed, committed by level
State = tuple[str, int, str, YearState, datetime]  # objective, year, title, state, when


async def held_and_last_closed(conn: asyncpg.Connection, keys: Sequence[Key]) -> tuple[dict[Key, int], int | None]:
    """The committed amount held for each (objective, year) of `keys` (sorted), its row
    locked, and the last year an annual review closed (adapters.budget_window): what a
    batch of coverage events measures itself against, read in one round trip.

    The rows are locked in key order, the one order every batch takes them in, and stay
    locked until the batch's transaction ends, so no other batch moves them meanwhile."""
    row = await conn.fetchrow(
        "SELECT (SELECT last_closed_year FROM budget_window) AS closed,"
        " (SELECT array_agg(ROW(h.objective_id, h.fiscal_year, h.committed_cents)) FROM"
        " (SELECT c.objective_id, c.fiscal_year, c.committed_cents FROM objective_commitments c"
        " JOIN unnest($1::text[], $2::int[]) AS k(objective_id, fiscal_year) USING (objective_id, fiscal_year)"
        " ORDER BY c.objective_id, c.fiscal_year FOR UPDATE OF c) h) AS held",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    assert row is not None
    return {(o, y): committed for o, y, committed in row["held"] or ()}, row["closed"]


def swapped(changes: Sequence[Change], held: dict[Key, int]) -> tuple[list[int | None], Write | None]:
    """For each (objective, year, committed, committed by level) in turn, the amount it
    replaces (None the first time), and the write that records the batch's last of each
    objective-year (None for no change), for the caller to run with its other writes.

    Coverage events of one objective come in order (one key, one partition), and the
    consumer hands a batch over in order, so "the one before" is the previous event's:
    the one held (`held_and_last_closed`, which locked it), or the previous change of the
    same objective-year in this batch. The rows are written in key order."""
    if not changes:
        return [], None
    now = dict(held)
    by_level: dict[Key, dict[str, int]] = {}
    before: list[int | None] = []
    for objective, year, committed, levels in changes:
        before.append(now.get((objective, year)))
        now[(objective, year)] = committed
        by_level[(objective, year)] = levels
    keys = sorted(by_level)
    return before, Write(
        "INSERT INTO objective_commitments (objective_id, fiscal_year, committed_cents, committed_by_level)"
        " SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::jsonb[]) ORDER BY 1, 2"
        " ON CONFLICT (objective_id, fiscal_year) DO UPDATE SET committed_cents = EXCLUDED.committed_cents,"
        " committed_by_level = EXCLUDED.committed_by_level",
        [
            [k[0] for k in keys],
            [k[1] for k in keys],
            [now[k] for k in keys],
            [json.dumps(by_level[k], sort_keys=True) for k in keys],
        ],
    )


def states_saved(states: Sequence[State]) -> Write | None:
    """The write that records each (objective, year, title, state, when) as the year's
    current state, for the caller to run with its other writes (None for no state); an
    older event redelivered late changes nothing. It returns, per row written, the
    objective and whether the row is the year's first state: `first_known` reads them.

    One statement for the batch: of each objective-year's states the newest is written
    (the last of those as new, as writing them in turn would leave), then only over an
    older one held. Row by row, this was one statement per coverage event."""
    if not states:
        return None
    newest: dict[Key, State] = {}
    for state in states:
        held = newest.get((state[0], state[1]))
        if held is None or held[4] <= state[4]:
            newest[(state[0], state[1])] = state
    rows = [newest[k] for k in sorted(newest)]  # key order: the order every batch locks them in
    return Write(
        "INSERT INTO objective_year_states (objective_id, fiscal_year, title, status, coverage_bp,"
        " need_cents, committed_cents, changed_at)"
        " SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],"
        " $7::bigint[], $8::timestamptz[])"
        " ON CONFLICT (objective_id, fiscal_year) DO UPDATE SET title = EXCLUDED.title,"
        " status = EXCLUDED.status, coverage_bp = EXCLUDED.coverage_bp, need_cents = EXCLUDED.need_cents,"
        " committed_cents = EXCLUDED.committed_cents, changed_at = EXCLUDED.changed_at"
        " WHERE objective_year_states.changed_at <= EXCLUDED.changed_at",
        [
            [o for o, *_ in rows],
            [y for _, y, *_ in rows],
            [title for _, _, title, _, _ in rows],
            [s.status.value for *_, s, _ in rows],
            [s.coverage_bp for *_, s, _ in rows],
            [s.need_cents for *_, s, _ in rows],
            [s.committed_cents for *_, s, _ in rows],
            [at for *_, at in rows],
        ],
        # A row inserted, not updated, has no deleting transaction: the year's first state.
        returning="objective_id, xmax = 0",
    )


def first_known(saved: Written) -> set[str]:
    """The objectives of which `states_saved` recorded a year's first state (where a
    briefing may be owed: adapters.owed_briefings)."""
    return {objective_id for objective_id, first in saved.rows if first}


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
