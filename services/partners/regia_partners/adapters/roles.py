"""asyncpg adapter for roles on objectives other than the lead."""

from collections.abc import Sequence
from typing import Any

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


async def of_objective(
    conn: asyncpg.Connection, objective_id: str, *, after: Sequence[Any] | None = None, limit: int | None = None
) -> list[dict]:
    """Every role on the objective, the lead (role LEAD) included, by role then partner,
    from just after the key `after` (a row's role and partner_id) when given."""
    role, partner_id = (after[0], after[1]) if after else (None, None)
    rows = await conn.fetch(
        "SELECT partner_id, role, assigned_at FROM ("
        "  SELECT partner_id, 'LEAD' AS role, assigned_at FROM objective_leads WHERE objective_id = $1"
        "  UNION ALL"
        "  SELECT partner_id, role, assigned_at FROM objective_roles WHERE objective_id = $1"
        ") r WHERE ($2::text IS NULL OR (role, partner_id) > ($2::text, $3::text))"
        " ORDER BY role, partner_id LIMIT $4",
        objective_id,
        role,
        partner_id,
        limit,
    )
    return [dict(r) for r in rows]
