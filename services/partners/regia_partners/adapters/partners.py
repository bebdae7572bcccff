"""asyncpg adapter for partners."""

import asyncpg

from regia_shared.events.partners import PartnerKind
from regia_shared.levels import GovernmentLevel

from ..domain.partner import Partner

_COLUMNS = "partner_id, name, kind, level"


def _partner(row: asyncpg.Record) -> Partner:
    level = GovernmentLevel(row["level"]) if row["level"] else None
    return Partner(row["partner_id"], row["name"], PartnerKind(row["kind"]), level)


async def get(conn: asyncpg.Connection, partner_id: str) -> Partner | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM partners WHERE partner_id = $1", partner_id)
    return _partner(row) if row else None


async def insert(conn: asyncpg.Connection, partner: Partner) -> bool:
    """False when a concurrent request inserted the same id first (it waited on the key)."""
    inserted = await conn.fetchval(
        f"INSERT INTO partners ({_COLUMNS}) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (partner_id) DO NOTHING RETURNING 1",
        partner.partner_id, partner.name, partner.kind.value,
        partner.level.value if partner.level else None)
    return bool(inserted)


async def lock(conn: asyncpg.Connection, partner_id: str) -> bool:
    """Lock the partner until the caller commits; False if there is no such partner.

    It serialises changes to one partner's contacts (two identical requests cannot both
    add the same person); NO KEY UPDATE still lets other transactions reference the row."""
    return bool(await conn.fetchval(
        "SELECT 1 FROM partners WHERE partner_id = $1 FOR NO KEY UPDATE", partner_id))


async def listing(conn: asyncpg.Connection, kind: PartnerKind | None = None, *,
                  q: str | None = None, level: GovernmentLevel | None = None,
                  limit: int = 100, offset: int = 0) -> list[dict]:
    """Partners by id; q matches anywhere in the name, case-insensitively (as a plain
    string: % and _ are not wildcards)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, registered_at FROM partners"
        " WHERE ($1::text IS NULL OR kind = $1)"
        " AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0)"
        " AND ($3::text IS NULL OR level = $3)"
        " ORDER BY partner_id LIMIT $4 OFFSET $5",
        kind.value if kind else None, q or None, level.value if level else None, limit, offset)
    return [dict(r) for r in rows]


async def details(conn: asyncpg.Connection, partner_id: str) -> dict | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS}, registered_at FROM partners WHERE partner_id = $1", partner_id)
    return dict(row) if row else None
