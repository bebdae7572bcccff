"""asyncpg adapter for indicators, their targets and measurements, and the subtree of the
plan whose progress they make. asyncpg reads and writes numeric as Decimal, exactly."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from ..domain.indicators import Direction, Indicator, Measurement

_COLUMNS = "indicator_id, objective_id, name, unit, direction, baseline_value, baseline_year, description"


@dataclass(frozen=True)
class TreeNode:
    node_id: str
    parent_id: str | None
    kind: str
    title: str
    weight: int
    position: int  # among its siblings


def _indicator(r: asyncpg.Record) -> Indicator:
    return Indicator(
        r["indicator_id"],
        r["objective_id"],
        r["name"],
        r["unit"],
        Direction(r["direction"]),
        r["baseline_value"],
        r["baseline_year"],
        r["description"],
    )


async def node_exists(conn: asyncpg.Connection, objective_id: str) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM objectives WHERE objective_id = $1)", objective_id)


async def get(conn: asyncpg.Connection, indicator_id: str, *, for_update: bool = False) -> Indicator | None:
    # FOR UPDATE: a target and a measurement written together read one definition.
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM indicators WHERE indicator_id = $1{lock}", indicator_id)
    return _indicator(row) if row else None


async def insert(conn: asyncpg.Connection, i: Indicator) -> None:
    await conn.execute(
        f"INSERT INTO indicators ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        i.indicator_id,
        i.objective_id,
        i.name,
        i.unit,
        i.direction.value,
        i.baseline_value,
        i.baseline_year,
        i.description,
    )


async def of_nodes(conn: asyncpg.Connection, objective_ids: Sequence[str]) -> list[Indicator]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM indicators WHERE objective_id = ANY($1::text[]) ORDER BY objective_id, indicator_id",
        list(objective_ids),
    )
    return [_indicator(r) for r in rows]


async def set_targets(conn: asyncpg.Connection, indicator_id: str, targets: Mapping[int, Decimal]) -> None:
    await conn.executemany(
        "INSERT INTO indicator_targets (indicator_id, fiscal_year, value) VALUES ($1, $2, $3)"
        " ON CONFLICT (indicator_id, fiscal_year) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        [(indicator_id, year, value) for year, value in targets.items()],
    )


async def targets(conn: asyncpg.Connection, indicator_ids: Sequence[str]) -> dict[str, dict[int, Decimal]]:
    rows = await conn.fetch(
        "SELECT indicator_id, fiscal_year, value FROM indicator_targets"
        " WHERE indicator_id = ANY($1::text[]) ORDER BY fiscal_year",
        list(indicator_ids),
    )
    found: dict[str, dict[int, Decimal]] = {i: {} for i in indicator_ids}
    for r in rows:
        found[r["indicator_id"]][r["fiscal_year"]] = r["value"]
    return found


async def add_measurement(conn: asyncpg.Connection, indicator_id: str, m: Measurement) -> Measurement | None:
    """Record `m`; if that date is already measured, change nothing and return what is held."""
    inserted = await conn.fetchval(
        "INSERT INTO indicator_measurements (indicator_id, measured_on, value, source, comment)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (indicator_id, measured_on) DO NOTHING RETURNING id",
        indicator_id,
        m.measured_on,
        m.value,
        m.source,
        m.comment,
    )
    if inserted is not None:
        return None
    row = await conn.fetchrow(
        "SELECT measured_on, value, source, comment FROM indicator_measurements"
        " WHERE indicator_id = $1 AND measured_on = $2",
        indicator_id,
        m.measured_on,
    )
    return Measurement(**dict(row))


async def measurements(conn: asyncpg.Connection, indicator_ids: Sequence[str]) -> dict[str, list[Measurement]]:
    rows = await conn.fetch(
        "SELECT indicator_id, measured_on, value, source, comment FROM indicator_measurements"
        " WHERE indicator_id = ANY($1::text[]) ORDER BY measured_on, id",
        list(indicator_ids),
    )
    found: dict[str, list[Measurement]] = {i: [] for i in indicator_ids}
    for r in rows:
        found[r["indicator_id"]].append(Measurement(r["measured_on"], r["value"], r["source"], r["comment"]))
    return found


async def subtree(conn: asyncpg.Connection, root: str) -> list[TreeNode]:
    """`root` and every node under it, in one query. UNION (not UNION ALL) drops repeated
    rows, so even a cycle that slipped past the writers ends the recursion."""
    rows = await conn.fetch(
        "WITH RECURSIVE tree AS ("
        " SELECT objective_id, parent_id, kind, title, weight, position FROM objectives WHERE objective_id = $1"
        " UNION SELECT o.objective_id, o.parent_id, o.kind, o.title, o.weight, o.position"
        " FROM objectives o JOIN tree t ON o.parent_id = t.objective_id)"
        " SELECT * FROM tree",
        root,
    )
    return [
        TreeNode(
            r["objective_id"],
            r["parent_id"] if r["objective_id"] != root else None,
            r["kind"],
            r["title"],
            r["weight"],
            r["position"],
        )
        for r in rows
    ]
