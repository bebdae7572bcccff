"""asyncpg adapter for networks and their memberships."""

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

from ..domain.relations import Membership, Network

_COLUMNS = "network_id, name, founded_on, coordinator_partner_id, objective_id"


async def get(conn: asyncpg.Connection, network_id: str, *, lock: bool = False) -> Network | None:
    """With lock, the network stays locked until the caller commits: it serialises changes
    to its memberships."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM networks WHERE network_id = $1" + (" FOR NO KEY UPDATE" if lock else ""), network_id
    )
    return Network(**dict(row)) if row else None


async def insert(conn: asyncpg.Connection, network: Network) -> bool:
    """False when a concurrent request inserted the same id first."""
    return bool(
        await conn.fetchval(
            f"INSERT INTO networks ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (network_id) DO NOTHING RETURNING 1",
            network.network_id,
            network.name,
            network.founded_on,
            network.coordinator_partner_id,
            network.objective_id,
        )
    )


async def history(conn: asyncpg.Connection, network_id: str, partner_id: str | None = None) -> list[Membership]:
    rows = await conn.fetch(
        "SELECT partner_id, joined_on, left_on FROM network_memberships"
        " WHERE network_id = $1 AND ($2::text IS NULL OR partner_id = $2)"
        " ORDER BY partner_id, joined_on",
        network_id,
        partner_id,
    )
    return [Membership(**dict(r)) for r in rows]


async def open_membership(conn: asyncpg.Connection, network_id: str, membership: Membership) -> None:
    await conn.execute(
        "INSERT INTO network_memberships (network_id, partner_id, joined_on) VALUES ($1, $2, $3)",
        network_id,
        membership.partner_id,
        membership.joined_on,
    )


async def close_membership(conn: asyncpg.Connection, network_id: str, membership: Membership) -> None:
    await conn.execute(
        "UPDATE network_memberships SET left_on = $4 WHERE network_id = $1 AND partner_id = $2 AND joined_on = $3",
        network_id,
        membership.partner_id,
        membership.joined_on,
        membership.left_on,
    )


async def members_on(conn: asyncpg.Connection, network_id: str, day: date) -> list[Membership]:
    rows = await conn.fetch(
        "SELECT partner_id, joined_on, left_on FROM network_memberships"
        " WHERE network_id = $1 AND joined_on <= $2 AND (left_on IS NULL OR $2 < left_on)"
        " ORDER BY partner_id",
        network_id,
        day,
    )
    return [Membership(**dict(r)) for r in rows]


async def search(
    conn: asyncpg.Connection,
    on: date,
    *,
    q: str | None = None,
    partner_id: str | None = None,
    objective_id: str | None = None,
    after: Sequence[Any] | None = None,
    limit: int = 100,
) -> list[dict]:
    """Networks by name, then id, from just after the key `after` (a row's `name_key`,
    `name`, `network_id`), each with how many members it had on `on`. q matches anywhere
    in the name, case-insensitively, as a plain string (no wildcards); partner_id: the
    networks it was a member of on `on`."""
    covers = "m.network_id = n.network_id AND m.joined_on <= $1 AND (m.left_on IS NULL OR $1 < m.left_on)"
    key = list(after) if after else [None, None, None]
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, lower(n.name) AS name_key,"
        f" (SELECT count(*) FROM network_memberships m WHERE {covers}) AS member_count"
        " FROM networks n"
        " WHERE ($2::text IS NULL OR strpos(lower(n.name), lower($2)) > 0)"
        f" AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM network_memberships m WHERE {covers}"
        "  AND m.partner_id = $3))"
        " AND ($4::text IS NULL OR n.objective_id = $4)"
        " AND ($6::text IS NULL OR (lower(n.name), n.name, n.network_id) > ($6::text, $7::text, $8::text))"
        " ORDER BY lower(n.name), n.name, n.network_id LIMIT $5",
        on,
        q,
        partner_id,
        objective_id,
        limit,
        *key,
    )
    return [dict(r) for r in rows]
