"""asyncpg adapter for partners' contacts."""

from collections.abc import Sequence
from typing import Any

import asyncpg

from ..domain.partner import Contact

_COLUMNS = "contact_id, partner_id, name, email, language, erased_at"


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


async def lock(conn: asyncpg.Connection, contact_id: str) -> Contact | None:
    """The contact, locked until the caller commits (None if there is none): changes to one
    contact, and its erasure, are serialised."""
    return _contact(
        await conn.fetchrow(f"SELECT {_COLUMNS} FROM contacts WHERE contact_id = $1 FOR NO KEY UPDATE", contact_id)
    )


async def update(conn: asyncpg.Connection, contact: Contact) -> None:
    await conn.execute(
        "UPDATE contacts SET name = $2, email = $3, language = $4, changed_at = now() WHERE contact_id = $1",
        contact.contact_id,
        contact.name,
        contact.email,
        contact.language,
    )


async def erase(conn: asyncpg.Connection, contact_id: str) -> Contact:
    """Replace the person by the tombstone: no name, no address, `erased_at` now. Their
    preferences go too, and so do the events of this service's outbox that carry their name
    or address (ContactAdded, ContactChanged): the outbox keeps published events a week for
    a replay, and a replay must not bring the person back to the notifier."""
    await conn.execute("DELETE FROM contact_preferences WHERE contact_id = $1", contact_id)
    await conn.execute(
        "DELETE FROM outbox WHERE type = ANY($2::text[]) AND (body::jsonb -> 'payload' ->> 'contact_id') = $1",
        contact_id,
        ["ContactAdded", "ContactChanged"],
    )
    row = await conn.fetchrow(
        "UPDATE contacts SET name = NULL, email = NULL, erased_at = now(), changed_at = now()"
        f" WHERE contact_id = $1 RETURNING {_COLUMNS}",
        contact_id,
    )
    erased = _contact(row)
    assert erased is not None  # the caller locked the row
    return erased


async def insert(conn: asyncpg.Connection, contact: Contact) -> None:
    await conn.execute(
        "INSERT INTO contacts (contact_id, partner_id, name, email, language) VALUES ($1, $2, $3, $4, $5)",
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
        f"SELECT {_COLUMNS}, added_at, changed_at FROM contacts WHERE partner_id = $1"
        " AND ($2::timestamptz IS NULL OR (added_at, contact_id) > ($2::timestamptz, $3::text))"
        " ORDER BY added_at, contact_id LIMIT $4",
        partner_id,
        added_at,
        contact_id,
        limit,
    )
    return [dict(r) for r in rows]
