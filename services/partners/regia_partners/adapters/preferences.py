"""asyncpg adapter for contacts' notification preferences."""

import json

import asyncpg

from ..domain.relations import Preferences


async def get(conn: asyncpg.Connection, contact_id: str) -> Preferences | None:
    row = await conn.fetchrow(
        "SELECT channels, language, cadence, event_kinds, kinds FROM contact_preferences WHERE contact_id = $1",
        contact_id,
    )
    if row is None:
        return None
    kinds = json.loads(row["kinds"])
    return Preferences(
        tuple(row["channels"]), row["language"], row["cadence"], tuple(row["event_kinds"]), tuple(sorted(kinds.items()))
    )


async def put(conn: asyncpg.Connection, contact_id: str, prefs: Preferences) -> None:
    await conn.execute(
        "INSERT INTO contact_preferences (contact_id, channels, language, cadence, event_kinds, kinds)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (contact_id) DO UPDATE SET"
        " channels = EXCLUDED.channels, language = EXCLUDED.language, cadence = EXCLUDED.cadence,"
        " event_kinds = EXCLUDED.event_kinds, kinds = EXCLUDED.kinds, updated_at = now()",
        contact_id,
        list(prefs.channels),
        prefs.language,
        prefs.cadence,
        list(prefs.event_kinds),
        json.dumps(dict(prefs.kinds)),
    )


async def lock_contact(conn: asyncpg.Connection, contact_id: str) -> str | None:
    """Lock the contact until the caller commits; its partner id, or None if there is none."""
    return await conn.fetchval("SELECT partner_id FROM contacts WHERE contact_id = $1 FOR NO KEY UPDATE", contact_id)
