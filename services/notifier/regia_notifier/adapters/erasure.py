"""asyncpg adapter for erasing a contact's personal data from the notifier (ContactErased):
its copy of the contact, its preferences, and the addresses and names in what was sent or
was waiting to be sent to them. What stays and why: domain/erasure.py."""

import asyncpg

from ..domain.erasure import ERASED_BODY, ERASED_NAME, mentions, without_addresses


async def addresses_of(conn: asyncpg.Connection, contact_id: str) -> set[str]:
    """Every address the notifier has held for the contact: its copy, and those it sent or
    meant to send to (an address changed since is in the older records)."""
    rows = await conn.fetch(
        "SELECT email AS a FROM contacts WHERE contact_id = $1 AND email IS NOT NULL"
        " UNION SELECT recipient FROM deliveries WHERE contact_id = $1 AND channel = 'email'"
        " UNION SELECT email FROM waiting_alerts WHERE contact_id = $1",
        contact_id,
    )
    return {r["a"] for r in rows if r["a"] and not r["a"].startswith("erased:")}


async def erase_contact(conn: asyncpg.Connection, contact_id: str, partner_id: str) -> int:
    """Erase the contact in the caller's transaction; returns how many deliveries lost their
    address. Repeating it changes nothing more."""
    addresses = await addresses_of(conn, contact_id)
    # The tombstone: kept (or written, for a contact never seen) so nothing older revives it.
    await conn.execute(
        "INSERT INTO contacts (contact_id, partner_id, name, email, language, erased_at)"
        " VALUES ($1, $2, NULL, NULL, 'it', now())"
        " ON CONFLICT (contact_id) DO UPDATE SET name = NULL, email = NULL,"
        " erased_at = coalesce(contacts.erased_at, now()), updated_at = now()",
        contact_id,
        partner_id,
    )
    await conn.execute("DELETE FROM contact_preferences WHERE contact_id = $1", contact_id)
    # Alerts still waiting for their grouping window or digest would become an e-mail to them.
    await conn.execute("DELETE FROM waiting_alerts WHERE contact_id = $1 AND message_id IS NULL", contact_id)
    await conn.execute(
        "UPDATE waiting_alerts SET email = 'erased:' || seq::text, recipient_name = $2"
        " WHERE contact_id = $1 AND email NOT LIKE 'erased:%'",
        contact_id,
        ERASED_NAME,
    )
    # An endpoint registered for this contact followed their preferences: it is theirs.
    await conn.execute(
        "UPDATE webhook_endpoints SET active = false, updated_at = now() WHERE contact_id = $1 AND active",
        contact_id,
    )
    # E-mails not sent yet are never sent; sent ones keep their row, status and attempts.
    await conn.execute(
        "UPDATE deliveries SET status = 'DEAD', last_error = 'the contact was erased on request',"
        " finished_at = now(), updated_at = now()"
        " WHERE contact_id = $1 AND channel = 'email' AND status IN ('PENDING', 'SENDING')",
        contact_id,
    )
    erased = await conn.fetch(
        # erased:<delivery id> (domain.erasure.erased_recipient): unique, as the address was.
        "UPDATE deliveries SET recipient = 'erased:' || delivery_id::text, recipient_name = $2,"
        " body = $3, body_html = NULL, updated_at = now()"
        " WHERE contact_id = $1 AND channel = 'email' AND recipient NOT LIKE 'erased:%'"
        " RETURNING delivery_id",
        contact_id,
        ERASED_NAME,
        ERASED_BODY,
    )
    if addresses:
        await _scrub_free_text(conn, addresses)
    return len(erased)


async def _scrub_free_text(conn: asyncpg.Connection, addresses: set[str]) -> None:
    """The addresses where they appear in free text: attempts' and deliveries' errors, the
    outbox (AlertDelivered and AlertFailed name the recipient) and dead letters."""
    patterns = [f"%{a.lower()}%" for a in addresses]
    for table, key, column in (
        ("delivery_attempts", "ctid", "error"),
        ("deliveries", "delivery_id", "last_error"),
        ("outbox", "id", "body"),
        ("dead_letters", "id", "error"),
    ):
        rows = await conn.fetch(
            f"SELECT {key} AS k, {column} AS t FROM {table} WHERE lower({column}) LIKE ANY($1::text[])", patterns
        )
        for row in rows:
            if mentions(row["t"], addresses):
                await conn.execute(
                    f"UPDATE {table} SET {column} = $2 WHERE {key} = $1",
                    row["k"],
                    without_addresses(row["t"], addresses),
                )
    # A dead letter's record is bytes, which SQL cannot fold to lower case: each is read
    # (they are few, and an erasure is rare) and the address replaced where it is text.
    rows = await conn.fetch("SELECT id, value FROM dead_letters")
    for row in rows:
        text = bytes(row["value"]).decode("utf-8", errors="surrogateescape")
        if mentions(text, addresses):
            scrubbed = without_addresses(text, addresses).encode("utf-8", errors="surrogateescape")
            await conn.execute("UPDATE dead_letters SET value = $2 WHERE id = $1", row["id"], scrubbed)
