"""asyncpg adapter for objectives (every node of a plan tree) and their needs."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from regia_shared.frozen_init import direct_init
from regia_shared.statements import Write, write_together

DEFAULT_WARNING_PCT = 75  # a standalone objective has no plan to set it


@direct_init
@dataclass(frozen=True)
class ObjectiveRecord:
    objective_id: str
    title: str
    at_risk_threshold_pct: int
    needs: dict[int, int]
    plan_id: str | None = None
    parent_id: str | None = None
    kind: str = "OBJECTIVE"
    weight: int = 1
    illustrative: bool = False
    position: int = 0
    single_level_warning_pct: int = field(default=DEFAULT_WARNING_PCT, compare=False)


_COLUMNS = (
    "o.objective_id, o.title, o.at_risk_threshold_pct, o.plan_id, o.parent_id, o.kind, o.weight,"
    " o.illustrative, o.position, coalesce(p.single_level_warning_pct, $2) AS warning_pct"
)
_FROM = " FROM objectives o LEFT JOIN plans p USING (plan_id)"


def _record(row: asyncpg.Record, needs: dict[int, int]) -> ObjectiveRecord:
    return ObjectiveRecord(
        row["objective_id"],
        row["title"],
        row["at_risk_threshold_pct"],
        needs,
        row["plan_id"],
        row["parent_id"],
        row["kind"],
        row["weight"],
        row["illustrative"],
        row["position"],
        row["warning_pct"],
    )


# Money for an objective not yet defined waits in the line projection, and a definition
# counts what waited (service_layer.objectives, .plans); the coverage projection skips an
# objective it does not know. Run at once under READ COMMITTED, the two would miss each
# other: the definition reads the allocations before the projection commits them, the
# projection reads the objectives before the definition commits it, and the money is never
# counted. So whatever makes objectives known takes this lock exclusively, before it reads
# any allocation, and the projection takes it shared in the statement that writes them
# (`allocations.apply_newer`), before it reads which objectives are known: whichever comes
# second waits for the first's commit and then sees its rows. Every plan import and node
# edit takes it too (plans.import_plan_in), so a node moved under another parent and the
# projection reading its ancestry are ordered the same way. Definitions are rare and
# brief; projections share the lock with each other.
DEFINITIONS_LOCK = "objectives.definitions"


async def lock_definitions(conn: asyncpg.Connection) -> None:
    """Hold off the coverage projection until the caller's transaction ends (DEFINITIONS_LOCK)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", DEFINITIONS_LOCK)


async def get(conn: asyncpg.Connection, objective_id: str, *, for_update: bool = False) -> ObjectiveRecord | None:
    lock = " FOR UPDATE OF o" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS}{_FROM} WHERE o.objective_id = $1{lock}", objective_id, DEFAULT_WARNING_PCT
    )
    if row is None:
        return None
    needs = await conn.fetch(
        "SELECT fiscal_year, need_cents FROM objective_needs WHERE objective_id = $1", objective_id
    )
    return _record(row, {n["fiscal_year"]: n["need_cents"] for n in needs})


async def insert(conn: asyncpg.Connection, objective: ObjectiveRecord) -> None:
    """Insert a new objective with its needs, in one statement (`_needs_written` says why)."""
    await write_together(
        conn,
        [
            Write(
                "INSERT INTO objectives (objective_id, title, at_risk_threshold_pct, plan_id, parent_id, kind,"
                " weight, illustrative, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                _fields(objective),
            ),
            *_needs_written(objective.objective_id, objective.needs, replacing=False),
        ],
    )


async def update(conn: asyncpg.Connection, objective: ObjectiveRecord) -> None:
    """Update an objective and replace its needs, in one statement (`_needs_written` says why)."""
    await write_together(
        conn,
        [
            Write(
                "UPDATE objectives SET title = $2, at_risk_threshold_pct = $3, plan_id = $4, parent_id = $5,"
                " kind = $6, weight = $7, illustrative = $8, position = $9, updated_at = now()"
                " WHERE objective_id = $1",
                _fields(objective),
            ),
            *_needs_written(objective.objective_id, objective.needs, replacing=True),
        ],
    )


def _fields(objective: ObjectiveRecord) -> list[object]:
    return [
        objective.objective_id,
        objective.title,
        objective.at_risk_threshold_pct,
        objective.plan_id,
        objective.parent_id,
        objective.kind,
        objective.weight,
        objective.illustrative,
        objective.position,
    ]


def _needs_written(objective_id: str, needs: dict[int, int], *, replacing: bool) -> list[Write]:
    """The writes that leave an objective with exactly `needs`, for `insert` and `update` to
    join with their own: the years it no longer has deleted (only when `replacing`: a new
    objective has none), the others upserted.

    Why joined: an objective and its needs were written a statement at a time, a
    delete, then an upsert and an `updated_at` touch per year, 2 + 2 x years round trips
    for what is one change, each of them under the definitions lock that holds off the
    coverage projection (docs/performance.md, the eighteenth session). Joined
    (`regia_shared.statements`), they are one; the rows written, and so the history
    trigger's rows and the plans' version bumps, are the same (the touch was redundant: the
    insert's default and the update set `updated_at`). The two statements on
    `objective_needs` write disjoint years, and its foreign key is checked at the
    statement's end, when the objective is there."""
    years = sorted(needs)
    writes = []
    if replacing:
        writes.append(
            Write(
                "DELETE FROM objective_needs WHERE objective_id = $1 AND NOT fiscal_year = ANY($2::int[])",
                [objective_id, years],
            )
        )
    if years:
        writes.append(
            Write(
                "INSERT INTO objective_needs (objective_id, fiscal_year, need_cents)"
                " SELECT $1::text, n.fiscal_year, n.need_cents FROM unnest($2::int[], $3::bigint[])"
                " AS n(fiscal_year, need_cents) ORDER BY n.fiscal_year"
                " ON CONFLICT (objective_id, fiscal_year) DO UPDATE SET need_cents = EXCLUDED.need_cents",
                [objective_id, years, [needs[y] for y in years]],
            )
        )
    return writes


async def set_need(conn: asyncpg.Connection, objective_id: str, fiscal_year: int, need_cents: int) -> None:
    await conn.execute(
        "INSERT INTO objective_needs (objective_id, fiscal_year, need_cents) VALUES ($1, $2, $3)"
        " ON CONFLICT (objective_id, fiscal_year) DO UPDATE SET need_cents = EXCLUDED.need_cents",
        objective_id,
        fiscal_year,
        need_cents,
    )
    await conn.execute("UPDATE objectives SET updated_at = now() WHERE objective_id = $1", objective_id)


async def known(conn: asyncpg.Connection, objective_ids: Sequence[str]) -> dict[str, ObjectiveRecord]:
    """The defined objectives among `objective_ids`, with their needs, in one query (every
    objectives batch reads them: one statement fewer a batch)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, (SELECT array_agg(ROW(n.fiscal_year, n.need_cents)) FROM objective_needs n"
        f" WHERE n.objective_id = o.objective_id) AS needs{_FROM} WHERE o.objective_id = ANY($1::text[])",
        list(objective_ids),
        DEFAULT_WARNING_PCT,
    )
    return {r["objective_id"]: _record(r, {year: cents for year, cents in r["needs"] or ()}) for r in rows}


async def of_plan(conn: asyncpg.Connection, plan_id: str) -> list[ObjectiveRecord]:
    ids = [
        r["objective_id"] for r in await conn.fetch("SELECT objective_id FROM objectives WHERE plan_id = $1", plan_id)
    ]
    found = await known(conn, ids)
    return sorted(found.values(), key=lambda o: (o.position, o.objective_id))


async def ancestry(conn: asyncpg.Connection, objective_ids: Sequence[str]) -> dict[str, str | None]:
    """Parent of each given node and of all their ancestors (one recursive query)."""
    rows = await conn.fetch(
        "WITH RECURSIVE up(objective_id, parent_id) AS ("
        " SELECT objective_id, parent_id FROM objectives WHERE objective_id = ANY($1::text[])"
        " UNION SELECT o.objective_id, o.parent_id FROM objectives o JOIN up ON o.objective_id = up.parent_id)"
        " SELECT objective_id, parent_id FROM up",
        list(objective_ids),
    )
    return {r["objective_id"]: r["parent_id"] for r in rows}


async def children(conn: asyncpg.Connection, objective_id: str) -> list[str]:
    rows = await conn.fetch("SELECT objective_id FROM objectives WHERE parent_id = $1 ORDER BY position", objective_id)
    return [r["objective_id"] for r in rows]


async def delete(conn: asyncpg.Connection, objective_id: str) -> None:
    for table in ("coverage", "objective_needs"):
        await conn.execute(f"DELETE FROM {table} WHERE objective_id = $1", objective_id)
    await conn.execute("DELETE FROM objectives WHERE objective_id = $1", objective_id)


async def listing(conn: asyncpg.Connection, limit: int, offset: int) -> list[dict]:
    rows = await conn.fetch(
        "SELECT objective_id, title, at_risk_threshold_pct, plan_id, parent_id, kind FROM objectives"
        " ORDER BY objective_id LIMIT $1 OFFSET $2",
        limit,
        offset,
    )
    return [dict(r) for r in rows]
