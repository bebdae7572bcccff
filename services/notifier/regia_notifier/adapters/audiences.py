"""asyncpg adapter resolving a rule's audiences to partners, from the projection."""

from datetime import date

import asyncpg

from ..domain.rules import ROLE_AUDIENCES, Audience


async def holders(conn: asyncpg.Connection, objective_ids: tuple[str, ...],
                  roles: set[Audience]) -> list[tuple[str, Audience]]:
    """(partner, role) for each role among `roles` held on one of the objectives."""
    wanted = [r.value for r in roles & ROLE_AUDIENCES]
    if not wanted:
        return []
    rows = await conn.fetch(
        "SELECT partner_id, 'LEAD' AS role FROM objective_leads"
        " WHERE objective_id = ANY($1::text[]) AND 'LEAD' = ANY($2::text[])"
        " UNION SELECT partner_id, role FROM objective_roles"
        " WHERE held AND objective_id = ANY($1::text[]) AND role = ANY($2::text[])"
        " ORDER BY partner_id, role", list(objective_ids), wanted)
    return [(r["partner_id"], Audience(r["role"])) for r in rows]


async def network_members(conn: asyncpg.Connection, objective_ids: tuple[str, ...],
                          on: date) -> list[str]:
    """Members, on that day, of the networks formed around one of the objectives."""
    rows = await conn.fetch(
        "SELECT DISTINCT m.partner_id FROM networks n JOIN network_memberships m USING (network_id)"
        " WHERE n.objective_id = ANY($1::text[]) AND m.joined_on <= $2"
        " AND (m.left_on IS NULL OR m.left_on > $2) ORDER BY m.partner_id",
        list(objective_ids), on)
    return [r["partner_id"] for r in rows]
