"""asyncpg adapter for what a plan file holds beyond its tree: the partners the partners
service registered, the roles and leads it announced (and an import declared), and the
indicators, targets and milestones of a plan's nodes, read and written a plan at a time."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

import asyncpg

from regia_shared.contracts.events.partners import ObjectiveRole

from ..domain.indicators import Indicator
from ..domain.milestones import Milestone
from .indicators import _COLUMNS as INDICATOR_COLUMNS
from .indicators import _indicator


async def register_partners(conn: asyncpg.Connection, partner_ids: Sequence[str], at: datetime) -> None:
    await conn.execute(
        "INSERT INTO known_partners (partner_id, registered_at) SELECT DISTINCT unnest($1::text[]), $2::timestamptz"
        " ON CONFLICT DO NOTHING",
        list(partner_ids),
        at,
    )


async def known_partners(conn: asyncpg.Connection, partner_ids: Sequence[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT partner_id FROM known_partners WHERE partner_id = ANY($1::text[])", list(partner_ids)
    )
    return {r["partner_id"] for r in rows}


async def roles_of(conn: asyncpg.Connection, node_ids: Sequence[str]) -> dict[str, list[tuple[str, ObjectiveRole]]]:
    rows = await conn.fetch(
        "SELECT objective_id, partner_id, role FROM node_roles WHERE objective_id = ANY($1::text[])"
        " ORDER BY objective_id, partner_id, role",
        list(node_ids),
    )
    found: dict[str, list[tuple[str, ObjectiveRole]]] = {}
    for r in rows:
        found.setdefault(r["objective_id"], []).append((r["partner_id"], ObjectiveRole(r["role"])))
    return found


async def role_changed(
    conn: asyncpg.Connection, objective_id: str, partner_id: str, role: ObjectiveRole, *, held: bool
) -> None:
    """A role the partners service announced assigned (held) or withdrawn."""
    if held:
        await conn.execute(
            "INSERT INTO node_roles (objective_id, partner_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            objective_id,
            partner_id,
            role.value,
        )
    else:
        await conn.execute(
            "DELETE FROM node_roles WHERE objective_id = $1 AND partner_id = $2 AND role = $3",
            objective_id,
            partner_id,
            role.value,
        )


async def set_roles(
    conn: asyncpg.Connection, node_ids: Sequence[str], roles: Sequence[tuple[str, str, ObjectiveRole]]
) -> None:
    """The roles of `node_ids` become exactly `roles` (node, partner, role)."""
    nodes, partners, names = [r[0] for r in roles], [r[1] for r in roles], [r[2].value for r in roles]
    await conn.execute(
        "DELETE FROM node_roles n WHERE n.objective_id = ANY($1::text[]) AND (n.objective_id, n.partner_id, n.role)"
        " NOT IN (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))",
        list(node_ids),
        nodes,
        partners,
        names,
    )
    await conn.execute(
        "INSERT INTO node_roles (objective_id, partner_id, role)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING",
        nodes,
        partners,
        names,
    )


async def set_leads(conn: asyncpg.Connection, leads: Mapping[str, str]) -> None:
    """The leads an import declares, as the partners service will announce them; an
    announcement that comes later (its own, or another assignment) is later, and wins."""
    await conn.execute(
        "INSERT INTO node_leads (objective_id, partner_id, assigned_at)"
        " SELECT *, now() FROM unnest($1::text[], $2::text[])"
        " ON CONFLICT (objective_id) DO UPDATE SET partner_id = EXCLUDED.partner_id, assigned_at = EXCLUDED.assigned_at"
        " WHERE node_leads.partner_id <> EXCLUDED.partner_id",
        list(leads),
        list(leads.values()),
    )


async def owners(conn: asyncpg.Connection, table: str, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """Indicator or milestone id → (its node, the node's plan) for the ids that exist."""
    key = {"indicators": "indicator_id", "milestones": "milestone_id"}[table]  # never the caller's text
    rows = await conn.fetch(
        f"SELECT t.{key} AS id, t.objective_id, o.plan_id FROM {table} t"
        f" JOIN objectives o USING (objective_id) WHERE t.{key} = ANY($1::text[])",
        list(ids),
    )
    return {r["id"]: (r["objective_id"], r["plan_id"]) for r in rows}


async def indicators_of(conn: asyncpg.Connection, node_ids: Sequence[str]) -> list[Indicator]:
    rows = await conn.fetch(
        f"SELECT {INDICATOR_COLUMNS} FROM indicators WHERE objective_id = ANY($1::text[]) ORDER BY indicator_id",
        list(node_ids),
    )
    return [_indicator(r) for r in rows]


async def measured(conn: asyncpg.Connection, indicator_ids: Sequence[str]) -> dict[str, int]:
    """Measurements held per indicator (an indicator with any cannot be dropped: they are observations)."""
    rows = await conn.fetch(
        "SELECT indicator_id, count(*) AS n FROM indicator_measurements WHERE indicator_id = ANY($1::text[])"
        " GROUP BY indicator_id",
        list(indicator_ids),
    )
    return {r["indicator_id"]: r["n"] for r in rows}


async def drop_indicators(conn: asyncpg.Connection, indicator_ids: Sequence[str]) -> None:
    await conn.execute("DELETE FROM indicator_targets WHERE indicator_id = ANY($1::text[])", list(indicator_ids))
    await conn.execute("DELETE FROM indicators WHERE indicator_id = ANY($1::text[])", list(indicator_ids))


async def save_indicators(conn: asyncpg.Connection, held: Sequence[Indicator]) -> None:
    await conn.executemany(
        f"INSERT INTO indicators ({INDICATOR_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (indicator_id) DO UPDATE SET objective_id = EXCLUDED.objective_id, name = EXCLUDED.name,"
        " unit = EXCLUDED.unit, direction = EXCLUDED.direction, baseline_value = EXCLUDED.baseline_value,"
        " baseline_year = EXCLUDED.baseline_year, description = EXCLUDED.description, updated_at = now()",
        [
            (
                i.indicator_id,
                i.objective_id,
                i.name,
                i.unit,
                i.direction.value,
                i.baseline_value,
                i.baseline_year,
                i.description,
            )
            for i in held
        ],
    )


async def set_targets(conn: asyncpg.Connection, targets: Mapping[str, Mapping[int, Decimal]]) -> None:
    """Each indicator's targets become exactly the ones given."""
    ids = list(targets)
    rows = [(i, year, value) for i, held in targets.items() for year, value in held.items()]
    await conn.execute(
        "DELETE FROM indicator_targets t WHERE t.indicator_id = ANY($1::text[]) AND (t.indicator_id, t.fiscal_year)"
        " NOT IN (SELECT * FROM unnest($2::text[], $3::int[]))",
        ids,
        [r[0] for r in rows],
        [r[1] for r in rows],
    )
    await conn.execute(
        "INSERT INTO indicator_targets (indicator_id, fiscal_year, value)"
        " SELECT * FROM unnest($1::text[], $2::int[], $3::numeric[])"
        " ON CONFLICT (indicator_id, fiscal_year) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"
        " WHERE indicator_targets.value <> EXCLUDED.value",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
    )


async def milestones_of(conn: asyncpg.Connection, node_ids: Sequence[str]) -> list[Milestone]:
    rows = await conn.fetch(
        "SELECT milestone_id, objective_id, title, due_on, description, reached_on FROM milestones"
        " WHERE objective_id = ANY($1::text[]) ORDER BY due_on, milestone_id",
        list(node_ids),
    )
    return [Milestone(**dict(r)) for r in rows]


async def milestones_by_id(conn: asyncpg.Connection, milestone_ids: Sequence[str]) -> list[Milestone]:
    rows = await conn.fetch(
        "SELECT milestone_id, objective_id, title, due_on, description, reached_on FROM milestones"
        " WHERE milestone_id = ANY($1::text[])",
        list(milestone_ids),
    )
    return [Milestone(**dict(r)) for r in rows]


async def drop_milestones(conn: asyncpg.Connection, milestone_ids: Sequence[str]) -> None:
    await conn.execute("DELETE FROM milestones WHERE milestone_id = ANY($1::text[])", list(milestone_ids))


async def save_milestones(conn: asyncpg.Connection, held: Sequence[tuple[Milestone, date | None]]) -> None:
    """Insert or change each milestone; a new one with the due date taken as announced
    (domain.milestones.known_overdue_at_definition), a changed one keeping its own."""
    await conn.executemany(
        "INSERT INTO milestones (milestone_id, objective_id, title, due_on, description, reached_on,"
        " overdue_announced_for) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (milestone_id) DO UPDATE SET objective_id = EXCLUDED.objective_id, title = EXCLUDED.title,"
        " due_on = EXCLUDED.due_on, description = EXCLUDED.description, reached_on = EXCLUDED.reached_on,"
        " updated_at = now()",
        [(m.milestone_id, m.objective_id, m.title, m.due_on, m.description, m.reached_on, at) for m, at in held],
    )
