"""asyncpg adapter for the notifier's projection of partner events: who leads an
objective, and whom of theirs to tell."""

import json
from datetime import datetime
from uuid import UUID

import asyncpg

from regia_shared.contracts.events.partners import ContactAdded, ContactChanged, PartnerChanged, PartnerRegistered

from ..domain.delivery import Recipient


async def upsert_partner(conn: asyncpg.Connection, p: PartnerRegistered | PartnerChanged) -> None:
    await conn.execute(
        "INSERT INTO partners (partner_id, name, kind, level) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (partner_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,"
        " level = EXCLUDED.level, updated_at = now()",
        p.partner_id,
        p.name,
        p.kind.value,
        p.level.value if p.level else None,
    )


async def upsert_contact(conn: asyncpg.Connection, c: ContactAdded | ContactChanged) -> None:
    """The contact as the event states it, whole. Never over an erased contact: an older
    event arriving late (a replay) must not bring back a person erased on request."""
    await conn.execute(
        "INSERT INTO contacts (contact_id, partner_id, name, email, language) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (contact_id) DO UPDATE SET partner_id = EXCLUDED.partner_id,"
        " name = EXCLUDED.name, email = EXCLUDED.email, language = EXCLUDED.language, updated_at = now()"
        " WHERE contacts.erased_at IS NULL",
        c.contact_id,
        c.partner_id,
        c.name,
        str(c.email),
        c.language,
    )


async def assign_lead(
    conn: asyncpg.Connection, objective_id: str, partner_id: str, assigned_at: datetime, event_id: UUID
) -> bool:
    """Record the assignment; True if it handed the objective to a new lead (it is the
    newest assignment and names another partner than the lead before it, if any)."""
    # Only a newer assignment wins, so a late redelivery of an old one changes nothing.
    previous = await conn.fetchrow(
        "SELECT partner_id FROM objective_leads WHERE objective_id = $1 FOR UPDATE", objective_id
    )
    won = await conn.fetchval(
        "INSERT INTO objective_leads (objective_id, partner_id, assigned_at, event_id)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (objective_id) DO UPDATE"
        " SET partner_id = EXCLUDED.partner_id, assigned_at = EXCLUDED.assigned_at,"
        " event_id = EXCLUDED.event_id WHERE objective_leads.assigned_at < EXCLUDED.assigned_at"
        " RETURNING true",
        objective_id,
        partner_id,
        assigned_at,
        event_id,
    )
    return bool(won) and (previous is None or previous["partner_id"] != partner_id)


async def lead_of(conn: asyncpg.Connection, objective_id: str) -> str | None:
    return await conn.fetchval("SELECT partner_id FROM objective_leads WHERE objective_id = $1", objective_id)


# A contact without preferences hears of everything, by every channel, immediately, in the
# language it was registered with.
_RECIPIENTS = (
    "SELECT c.contact_id, c.partner_id, c.name, c.email, coalesce(p.language, c.language) AS language,"
    " coalesce(p.channels, ARRAY['email', 'webhook']) AS channels,"
    " coalesce(p.cadence, 'immediate') AS cadence, p.event_kinds, coalesce(p.kinds, '{}') AS kinds"
    " FROM contacts c LEFT JOIN contact_preferences p USING (contact_id)"
)


def _recipient(row: asyncpg.Record) -> Recipient:
    kinds = row["event_kinds"]
    return Recipient(
        row["contact_id"],
        row["partner_id"],
        row["name"],
        row["email"],
        row["language"],
        channels=tuple(row["channels"]),
        cadence=row["cadence"],
        event_kinds=None if kinds is None else tuple(kinds),
        kinds=tuple(sorted(json.loads(row["kinds"]).items())),
    )


async def contacts_of(conn: asyncpg.Connection, partner_id: str) -> list[Recipient]:
    return await contacts_of_partners(conn, [partner_id])


async def contacts_of_partners(conn: asyncpg.Connection, partner_ids: list[str]) -> list[Recipient]:
    rows = await conn.fetch(
        # An erased contact is never told anything again.
        f"{_RECIPIENTS} WHERE c.partner_id = ANY($1::text[]) AND c.erased_at IS NULL ORDER BY c.partner_id, c.contact_id",
        partner_ids,
    )
    return [_recipient(r) for r in rows]


async def partner_name(conn: asyncpg.Connection, partner_id: str) -> str | None:
    return await conn.fetchval("SELECT name FROM partners WHERE partner_id = $1", partner_id)


async def erased(conn: asyncpg.Connection, contact_id: str) -> bool:
    return bool(
        await conn.fetchval("SELECT 1 FROM contacts WHERE contact_id = $1 AND erased_at IS NOT NULL", contact_id)
    )
