"""asyncpg adapter for roles on objectives other than the lead."""

import asyncpg

from regia_shared.contracts.events.partners import ObjectiveRole


async def lock(conn: asyncpg.Connection, objective_id: str) -> None:
    """Serialise role changes of one objective until the caller commits (the first
    assignment has no row to lock)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('partners.roles:' || $1))", objective_id)


async def add(conn: asyncpg.Connection, objective_id: str, partner_id: str, role: ObjectiveRole) -> bool:
    """False when the partner already holds the role."""
    return bool(
        await conn.fetchval(
            "INSERT INTO objective_roles (objective_id, partner_id, role) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING 1",
            objective_id,
            partner_id,
            role.value,
        )
    )


async def remove(conn: asyncpg.Connection, objective_id: str, partner_id: str, role: ObjectiveRole) -> bool:
    """False when the partner did not hold the role."""
    return bool(
        await conn.fetchval(
            "DELETE FROM objective_roles WHERE objective_id = $1 AND partner_id = $2 AND role = $3 RETURNING 1",
            objective_id,
            partner_id,
            role.value,
        )
    )


async def of_objective(conn: asyncpg.Connection, objective_id: str) -> list[dict]:
    """Every role on the objective, the lead (role LEAD) included."""
    rows = await conn.fetch(
        "SELECT partner_id, role, assigned_at FROM ("
        "  SELECT partner_id, 'LEAD' AS role, assigned_at FROM objective_leads WHERE objective_id = $1"
        "  UNION ALL"
        "  SELECT partner_id, role, assigned_at FROM objective_roles WHERE objective_id = $1"
        ") r ORDER BY role, partner_id",
        objective_id,
    )
    return [dict(r) for r in rows]
