"""asyncpg adapter for partners."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from regia_shared.contracts.events.partners import ObjectiveRole, PartnerKind
from regia_shared.contracts.levels import GovernmentLevel

from ..domain.partner import Partner

_COLUMNS = "partner_id, name, kind, level, territory"


def _partner(row: asyncpg.Record) -> Partner:
    level = GovernmentLevel(row["level"]) if row["level"] else None
    return Partner(row["partner_id"], row["name"], PartnerKind(row["kind"]), level, row["territory"])


async def get(conn: asyncpg.Connection, partner_id: str) -> Partner | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM partners WHERE partner_id = $1", partner_id)
    return _partner(row) if row else None


async def insert(conn: asyncpg.Connection, partner: Partner) -> bool:
    """False when a concurrent request inserted the same id first (it waited on the key)."""
    inserted = await conn.fetchval(
        f"INSERT INTO partners ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (partner_id) DO NOTHING RETURNING 1",
        partner.partner_id,
        partner.name,
        partner.kind.value,
        partner.level.value if partner.level else None,
        partner.territory,
    )
    return bool(inserted)


async def lock(conn: asyncpg.Connection, partner_id: str) -> bool:
    """Lock the partner until the caller commits; False if there is no such partner.

    It serialises changes to one partner's contacts (two identical requests cannot both
    add the same person); NO KEY UPDATE still lets other transactions reference the row."""
    return bool(await conn.fetchval("SELECT 1 FROM partners WHERE partner_id = $1 FOR NO KEY UPDATE", partner_id))


async def update(conn: asyncpg.Connection, partner: Partner) -> None:
    """The editable facts (name, territory): id, kind and level never change."""
    await conn.execute(
        "UPDATE partners SET name = $2, territory = $3, changed_at = now() WHERE partner_id = $1",
        partner.partner_id,
        partner.name,
        partner.territory,
    )


@dataclass(frozen=True)
class Search:
    """What to look for; None means any. `on` is the day network membership is judged on."""

    on: date
    q: str | None = None
    kind: PartnerKind | None = None
    level: GovernmentLevel | None = None
    objective_id: str | None = None
    role: ObjectiveRole | None = None
    network_id: str | None = None
    territory: str | None = None


# Every role, the lead (kept in its own table) as role LEAD.
_HOLDINGS = (
    "SELECT objective_id, partner_id, 'LEAD' AS role FROM objective_leads"
    " UNION ALL SELECT objective_id, partner_id, role FROM objective_roles"
)


async def search(conn: asyncpg.Connection, s: Search, *, after: Sequence[Any] | None, limit: int) -> list[dict]:
    """Partners by name, then id, from just after the key `after` (a row's `name_key`,
    `name`, `partner_id`) when given. q matches anywhere in the name, case-insensitively, as
    a plain string: strpos has no wildcards, so % and _ in it need no escaping. territory
    matches the whole territory, case-insensitively ("liguria" is not "Comune di Liguria").
    `name_key` is the database's lower(name): the key must be the one the database sorts
    by, which Python's str.lower() is not for every script."""
    key = list(after) if after else [None, None, None]
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, registered_at, lower(p.name) AS name_key FROM partners p"
        " WHERE ($1::text IS NULL OR strpos(lower(p.name), lower($1)) > 0)"
        " AND ($2::text IS NULL OR p.kind = $2)"
        " AND ($3::text IS NULL OR p.level = $3)"
        " AND (($4::text IS NULL AND $5::text IS NULL) OR EXISTS ("
        f"  SELECT 1 FROM ({_HOLDINGS}) h WHERE h.partner_id = p.partner_id"
        "   AND ($4::text IS NULL OR h.objective_id = $4) AND ($5::text IS NULL OR h.role = $5)))"
        " AND ($6::text IS NULL OR EXISTS ("
        "  SELECT 1 FROM network_memberships m WHERE m.network_id = $6 AND m.partner_id = p.partner_id"
        "   AND m.joined_on <= $7 AND (m.left_on IS NULL OR $7 < m.left_on)))"
        " AND ($9::text IS NULL OR lower(p.territory) = lower($9))"
        " AND ($10::text IS NULL OR (lower(p.name), p.name, p.partner_id) > ($10::text, $11::text, $12::text))"
        " ORDER BY lower(p.name), p.name, p.partner_id LIMIT $8",
        s.q,
        s.kind.value if s.kind else None,
        s.level.value if s.level else None,
        s.objective_id,
        s.role.value if s.role else None,
        s.network_id,
        s.on,
        limit,
        s.territory,
        *key,
    )
    return [dict(r) for r in rows]


async def details(conn: asyncpg.Connection, partner_id: str) -> dict | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS}, registered_at FROM partners WHERE partner_id = $1", partner_id)
    return dict(row) if row else None
