"""asyncpg adapter for the notifier's projection of roles, networks and contact
preferences. Every write is guarded by the event's time (or, for memberships, keyed by
its dates), so replaying the partner topic from the start rebuilds the same rows and a
late redelivery of an older event changes nothing."""

import json
from datetime import datetime

import asyncpg

from regia_shared.contracts.events.partners import (
    ContactPreferencesChanged,
    NetworkFormed,
    NetworkMemberJoined,
    NetworkMemberLeft,
)


async def set_role(
    conn: asyncpg.Connection, objective_id: str, partner_id: str, role: str, held: bool, changed_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO objective_roles (objective_id, partner_id, role, held, changed_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (objective_id, partner_id, role) DO UPDATE"
        " SET held = EXCLUDED.held, changed_at = EXCLUDED.changed_at"
        " WHERE objective_roles.changed_at <= EXCLUDED.changed_at",
        objective_id,
        partner_id,
        role,
        held,
        changed_at,
    )


async def form_network(conn: asyncpg.Connection, n: NetworkFormed) -> None:
    await conn.execute(
        "INSERT INTO networks (network_id, name, founded_on, coordinator_partner_id, objective_id)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (network_id) DO UPDATE SET name = EXCLUDED.name,"
        " founded_on = EXCLUDED.founded_on, coordinator_partner_id = EXCLUDED.coordinator_partner_id,"
        " objective_id = EXCLUDED.objective_id",
        n.network_id,
        n.name,
        n.founded_on,
        n.coordinator_partner_id,
        n.objective_id,
    )


async def join_network(conn: asyncpg.Connection, m: NetworkMemberJoined) -> None:
    await conn.execute(
        "INSERT INTO network_memberships (network_id, partner_id, joined_on) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING",
        m.network_id,
        m.partner_id,
        m.joined_on,
    )


async def leave_network(conn: asyncpg.Connection, m: NetworkMemberLeft) -> None:
    # Closes the membership open on that day; a redelivered leave finds it closed already.
    await conn.execute(
        "UPDATE network_memberships SET left_on = $3 WHERE network_id = $1 AND partner_id = $2"
        " AND left_on IS NULL AND joined_on < $3",
        m.network_id,
        m.partner_id,
        m.left_on,
    )


async def set_preferences(conn: asyncpg.Connection, p: ContactPreferencesChanged, changed_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO contact_preferences (contact_id, partner_id, channels, language, cadence,"
        " event_kinds, kinds, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)"
        " ON CONFLICT (contact_id) DO UPDATE SET partner_id = EXCLUDED.partner_id,"
        " channels = EXCLUDED.channels, language = EXCLUDED.language, cadence = EXCLUDED.cadence,"
        " event_kinds = EXCLUDED.event_kinds, kinds = EXCLUDED.kinds, changed_at = EXCLUDED.changed_at"
        " WHERE contact_preferences.changed_at <= EXCLUDED.changed_at",
        p.contact_id,
        p.partner_id,
        list(p.channels),
        p.language,
        p.cadence,
        list(p.event_kinds),
        json.dumps(p.kinds),
        changed_at,
    )
