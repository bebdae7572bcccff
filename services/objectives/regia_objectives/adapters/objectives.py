"""asyncpg adapter for objectives and their needs."""

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class ObjectiveRecord:
    objective_id: str
    title: str
    at_risk_threshold_pct: int
    needs: dict[int, int]


async def get(conn: asyncpg.Connection, objective_id: str, *, for_update: bool = False) -> ObjectiveRecord | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT objective_id, title, at_risk_threshold_pct FROM objectives WHERE objective_id = $1{lock}",
        objective_id)
    if row is None:
        return None
    needs = await conn.fetch(
        "SELECT fiscal_year, need_cents FROM objective_needs WHERE objective_id = $1", objective_id)
    return ObjectiveRecord(row["objective_id"], row["title"], row["at_risk_threshold_pct"],
                           {n["fiscal_year"]: n["need_cents"] for n in needs})


async def insert(conn: asyncpg.Connection, objective: ObjectiveRecord) -> None:
    await conn.execute(
        "INSERT INTO objectives (objective_id, title, at_risk_threshold_pct) VALUES ($1, $2, $3)",
        objective.objective_id, objective.title, objective.at_risk_threshold_pct)
    for year, need in objective.needs.items():
        await set_need(conn, objective.objective_id, year, need)


async def set_need(conn: asyncpg.Connection, objective_id: str, fiscal_year: int, need_cents: int) -> None:
    await conn.execute(
        "INSERT INTO objective_needs (objective_id, fiscal_year, need_cents) VALUES ($1, $2, $3)"
        " ON CONFLICT (objective_id, fiscal_year) DO UPDATE SET need_cents = EXCLUDED.need_cents",
        objective_id, fiscal_year, need_cents)
    await conn.execute("UPDATE objectives SET updated_at = now() WHERE objective_id = $1", objective_id)


async def known(conn: asyncpg.Connection, objective_ids: list[str]) -> dict[str, ObjectiveRecord]:
    """The defined objectives among `objective_ids`, with their needs, in two queries."""
    rows = await conn.fetch(
        "SELECT objective_id, title, at_risk_threshold_pct FROM objectives"
        " WHERE objective_id = ANY($1::text[])", objective_ids)
    needs = await conn.fetch(
        "SELECT objective_id, fiscal_year, need_cents FROM objective_needs"
        " WHERE objective_id = ANY($1::text[])", objective_ids)
    by_id: dict[str, dict[int, int]] = {}
    for n in needs:
        by_id.setdefault(n["objective_id"], {})[n["fiscal_year"]] = n["need_cents"]
    return {r["objective_id"]: ObjectiveRecord(r["objective_id"], r["title"], r["at_risk_threshold_pct"],
                                               by_id.get(r["objective_id"], {})) for r in rows}


async def listing(conn: asyncpg.Connection, limit: int, offset: int) -> list[dict]:
    rows = await conn.fetch(
        "SELECT objective_id, title, at_risk_threshold_pct FROM objectives ORDER BY objective_id"
        " LIMIT $1 OFFSET $2", limit, offset)
    return [dict(r) for r in rows]
