"""asyncpg adapter for plans and the leads the partners service announced."""

from dataclasses import dataclass
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


async def version(conn: asyncpg.Connection, plan_id: str) -> tuple[int, int]:
    """The plan's versions, of its coverage and of its definition (plan_versions and
    plan_definitions, kept by the triggers of migration 0008; the coverage version is kept in
    slots since 0015, and is their sum); (0, 0) for no such plan."""
    row = await conn.fetchrow(
        "SELECT (SELECT sum(version) FROM plan_versions WHERE plan_id = $1) AS coverage,"
        " (SELECT version FROM plan_definitions WHERE plan_id = $1) AS definition",
        plan_id,
    )
    return (int(row["coverage"] or 0), int(row["definition"] or 0)) if row else (0, 0)


@dataclass(frozen=True)
class TreeRowText:
    """One node of a plan tree with its JSON written by PostgreSQL: `head` the node's own
    fields (read_models.TreeRow up to `illustrative`, the object left open), `needs` and
    `years` (TreeYear objects) as JSON text; with what the filters test."""

    node_id: str
    parent_id: str | None
    position: int
    lead: str | None
    head: str
    needs: str
    years: str
    at_risk: bool
    has_level: bool


# Each year as read_models.TreeYear, computed as plans_http.tree_year does in Python (the
# `as_of` answer still goes that way, and tests/integration/test_objectives_reads.py
# checks that both give the same tree): counted money is a parent's counted (a leaf's
# committed) up to the need, the gap to the threshold rounded up to the cent. Written by
# concatenation, text through to_json (which escapes it): json_build_object took twice as
# long, looking up each argument's type on every call.
_TREE_YEAR = (
    """'{"fiscal_year": ' || c.fiscal_year || ', "need_cents": ' || c.need_cents"""
    """ || ', "committed_cents": ' || c.committed_cents || ', "counted_cents": ' || k.counted"""
    """ || ', "surplus_cents": ' || (c.committed_cents - k.counted) || ', "disbursed_cents": ' || c.disbursed_cents"""
    """ || ', "committed_by_level": ' || coalesce(c.committed_by_level::text, '{}')"""
    """ || ', "coverage_bp": ' || c.coverage_bp"""
    """ || ', "coverage_pct": "' || (c.coverage_bp / 100) || '.' || lpad((c.coverage_bp % 100)::text, 2, '0')"""
    """ || '", "status": ' || to_json(c.status)::text"""
    """ || ', "gap_to_threshold_cents": ' || greatest((c.need_cents * $2 + 99) / 100 - k.effective, 0)"""
    """ || ', "gap_to_full_cents": ' || greatest(c.need_cents - k.effective, 0)"""
    """ || ', "over_committed_cents": ' || greatest(c.committed_cents - c.need_cents, 0)"""
    """ || ', "history_cents": ' || c.history_cents"""
    """ || ', "single_level_dependency": ' || coalesce(to_json(c.dominant_level)::text, 'null') || '}'"""
)
_TREE_HEAD = (
    """'{"node_id": ' || to_json(o.objective_id)::text || ', "kind": ' || to_json(o.kind)::text"""
    """ || ', "title": ' || to_json(o.title)::text || ', "weight": ' || o.weight"""
    """ || ', "lead": ' || coalesce(to_json(o.lead)::text, 'null') || ', "illustrative": ' || o.illustrative::text"""
)


async def tree_rows(
    conn: asyncpg.Connection, plan_id: str, threshold_pct: int, fiscal_year: int | None, level: str | None
) -> list[TreeRowText]:
    """Every node of the plan with its JSON. PostgreSQL writes it because building 9,000
    years as Python dicts and encoding them took 100-150 ms of a 3,000-node tree; the
    coverage rows are read by primary key per node (LATERAL), the lead likewise (a
    subquery kept apart by OFFSET 0: as a join, the planner hashed all 150,000 leads)."""
    rows = await conn.fetch(
        f"SELECT o.objective_id, o.parent_id, o.position, o.lead, {_TREE_HEAD} AS head,"
        " coalesce((SELECT json_object_agg(n.fiscal_year, n.need_cents ORDER BY n.fiscal_year)"
        " FROM objective_needs n WHERE n.objective_id = o.objective_id), '{}')::text AS needs,"
        " coalesce(y.years, '[]') AS years, coalesce(y.at_risk, false) AS at_risk,"
        " coalesce(y.has_level, false) AS has_level"
        " FROM (SELECT o.*, (SELECT l.partner_id FROM node_leads l WHERE l.objective_id = o.objective_id) AS lead"
        " FROM objectives o WHERE o.plan_id = $1 OFFSET 0) o"
        " LEFT JOIN LATERAL ("
        f" SELECT '[' || string_agg({_TREE_YEAR}, ', ' ORDER BY c.fiscal_year) || ']' AS years,"
        " bool_or(c.status = 'AT_RISK') AS at_risk,"
        " bool_or(coalesce((c.committed_by_level ->> $4)::bigint, 0) > 0) AS has_level"
        " FROM coverage c CROSS JOIN LATERAL (SELECT coalesce(c.counted_cents, c.committed_cents) AS effective,"
        " least(coalesce(c.counted_cents, c.committed_cents), c.need_cents) AS counted) k"
        " WHERE c.objective_id = o.objective_id AND ($3::int IS NULL OR c.fiscal_year = $3)) y ON true",
        plan_id,
        threshold_pct,
        fiscal_year,
        level,
    )
    return [
        TreeRowText(
            r["objective_id"],
            r["parent_id"],
            r["position"],
            r["lead"],
            r["head"],
            r["needs"],
            r["years"],
            r["at_risk"],
            r["has_level"],
        )
        for r in rows
    ]
