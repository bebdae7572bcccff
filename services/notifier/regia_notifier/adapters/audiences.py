"""asyncpg adapter resolving a rule's audiences to partners, from the projection."""

from collections.abc import Sequence
from datetime import date

import asyncpg

from ..domain.rules import ROLE_AUDIENCES, Audience


async def holders(
    conn: asyncpg.Connection, objective_ids: tuple[str, ...], roles: set[Audience]
) -> list[tuple[str, Audience]]:
    """(partner, role) for each role among `roles` held on one of the objectives."""
    found = await holders_by_objective(conn, objective_ids, roles)
    return sorted({pair for pairs in found.values() for pair in pairs})


async def holders_by_objective(
    conn: asyncpg.Connection, objective_ids: Sequence[str], roles: set[Audience]
) -> dict[str, list[tuple[str, Audience]]]:
    """`holders` of many objectives with one statement: objective id → (partner, role)."""
    wanted = [r.value for r in roles & ROLE_AUDIENCES]
    if not wanted or not objective_ids:
        return {}
    rows = await conn.fetch(
        "SELECT objective_id, partner_id, 'LEAD' AS role FROM objective_leads"
        " WHERE objective_id = ANY($1::text[]) AND 'LEAD' = ANY($2::text[])"
        " UNION SELECT objective_id, partner_id, role FROM objective_roles"
        " WHERE held AND objective_id = ANY($1::text[]) AND role = ANY($2::text[])"
        " ORDER BY objective_id, partner_id, role",
        list(set(objective_ids)),
        wanted,
    )
    found: dict[str, list[tuple[str, Audience]]] = {}
    for r in rows:
        found.setdefault(r["objective_id"], []).append((r["partner_id"], Audience(r["role"])))
    return found


async def network_members(conn: asyncpg.Connection, objective_ids: tuple[str, ...], on: date) -> list[str]:
    """Members, on that day, of the networks formed around one of the objectives."""
    rows = await conn.fetch(
        "SELECT DISTINCT m.partner_id FROM networks n JOIN network_memberships m USING (network_id)"
        " WHERE n.objective_id = ANY($1::text[]) AND m.joined_on <= $2"
        " AND (m.left_on IS NULL OR m.left_on > $2) ORDER BY m.partner_id",
        list(objective_ids),
        on,
    )
    return [r["partner_id"] for r in rows]
