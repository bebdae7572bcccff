"""asyncpg adapter for partners' contacts."""

from collections.abc import Sequence
from typing import Any

import asyncpg

from ..domain.partner import Contact

_COLUMNS = "contact_id, partner_id, name, email, language"


def _contact(row: asyncpg.Record | None) -> Contact | None:
    return Contact(**dict(row)) if row else None


async def by_id(conn: asyncpg.Connection, contact_id: str) -> Contact | None:
    return _contact(await conn.fetchrow(f"SELECT {_COLUMNS} FROM contacts WHERE contact_id = $1", contact_id))


async def by_email(conn: asyncpg.Connection, partner_id: str, email: str) -> Contact | None:
    return _contact(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM contacts WHERE partner_id = $1 AND lower(email) = lower($2)", partner_id, email
        )
    )


async def insert(conn: asyncpg.Connection, contact: Contact) -> None:
    await conn.execute(
        f"INSERT INTO contacts ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5)",
        contact.contact_id,
        contact.partner_id,
        contact.name,
        contact.email,
        contact.language,
    )


async def of_partner(
    conn: asyncpg.Connection, partner_id: str, *, after: Sequence[Any] | None = None, limit: int | None = None
) -> list[dict]:
    """A partner's contacts in the order they were added, from just after the key `after`
    (a row's `added_at` and `contact_id`) when given."""
    added_at, contact_id = (after[0], after[1]) if after else (None, None)
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, added_at FROM contacts WHERE partner_id = $1"
        " AND ($2::timestamptz IS NULL OR (added_at, contact_id) > ($2::timestamptz, $3::text))"
        " ORDER BY added_at, contact_id LIMIT $4",
        partner_id,
        added_at,
        contact_id,
        limit,
    )
    return [dict(r) for r in rows]
