"""asyncpg adapter for plans and the leads the partners service announced."""

from datetime import datetime

import asyncpg

from ..domain.tree import Plan

_COLUMNS = (
    "plan_id, title, territory, population, first_year, last_year, at_risk_threshold_pct,"
    " single_level_warning_pct, description"
)


def _plan(row: asyncpg.Record) -> Plan:
    return Plan(
        row["plan_id"],
        row["title"],
        row["territory"],
        row["population"],
        row["first_year"],
        row["last_year"],
        row["at_risk_threshold_pct"],
        row["single_level_warning_pct"],
        row["description"],
    )


async def get(conn: asyncpg.Connection, plan_id: str, *, for_update: bool = False) -> Plan | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM plans WHERE plan_id = $1" + (" FOR UPDATE" if for_update else ""), plan_id
    )
    return _plan(row) if row else None


async def save(conn: asyncpg.Connection, plan: Plan) -> None:
    await conn.execute(
        f"INSERT INTO plans ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (plan_id) DO UPDATE SET title = EXCLUDED.title, territory = EXCLUDED.territory,"
        " population = EXCLUDED.population, first_year = EXCLUDED.first_year,"
        " last_year = EXCLUDED.last_year, at_risk_threshold_pct = EXCLUDED.at_risk_threshold_pct,"
        " single_level_warning_pct = EXCLUDED.single_level_warning_pct,"
        " description = EXCLUDED.description, updated_at = now()",
        plan.plan_id,
        plan.title,
        plan.territory,
        plan.population,
        plan.first_year,
        plan.last_year,
        plan.at_risk_threshold_pct,
        plan.single_level_warning_pct,
        plan.description,
    )


async def listing(conn: asyncpg.Connection, after: tuple[int, str] | None, limit: int) -> list[dict]:
    """Plans in (first_year, plan_id) order, from after that key on."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM plans WHERE $1::int IS NULL OR (first_year, plan_id) > ($1, $2)"
        " ORDER BY first_year, plan_id LIMIT $3",
        after[0] if after else None,
        after[1] if after else "",
        limit,
    )
    return [dict(r) for r in rows]


async def owners(conn: asyncpg.Connection, node_ids: list[str]) -> dict[str, str | None]:
    """The plan each existing node belongs to (None: a standalone objective)."""
    rows = await conn.fetch(
        "SELECT objective_id, plan_id FROM objectives WHERE objective_id = ANY($1::text[])", node_ids
    )
    return {r["objective_id"]: r["plan_id"] for r in rows}


async def funded(conn: asyncpg.Connection, node_ids: list[str]) -> dict[str, int]:
    """Funding lines held against each node: removing such a node would orphan money."""
    rows = await conn.fetch(
        "SELECT objective_id, count(*) AS n FROM line_allocations"
        " WHERE objective_id = ANY($1::text[]) GROUP BY objective_id",
        node_ids,
    )
    return {r["objective_id"]: r["n"] for r in rows}


async def leads(conn: asyncpg.Connection, node_ids: list[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT objective_id, partner_id FROM node_leads WHERE objective_id = ANY($1::text[])", node_ids
    )
    return {r["objective_id"]: r["partner_id"] for r in rows}


async def assign_lead(conn: asyncpg.Connection, objective_id: str, partner_id: str, at: datetime) -> None:
    # Partner events of one objective are in order, but a replay may bring an old one back:
    # the assignment with the latest time wins.
    await conn.execute(
        "INSERT INTO node_leads (objective_id, partner_id, assigned_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (objective_id) DO UPDATE SET partner_id = EXCLUDED.partner_id,"
        " assigned_at = EXCLUDED.assigned_at WHERE node_leads.assigned_at <= EXCLUDED.assigned_at",
        objective_id,
        partner_id,
        at,
    )
