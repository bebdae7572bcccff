"""Registering partners and their contacts, and how each contact wants to be told. Each
use case runs in one transaction: a refused command writes nothing, an accepted one writes
its state and its outbox event together."""

import uuid

import asyncpg

from regia_shared.contracts.events.partners import (
    ContactAdded,
    ContactChanged,
    ContactErased,
    ContactPreferencesChanged,
    PartnerChanged,
    PartnerRegistered,
)

from ..adapters import contacts, partners, preferences
from ..domain.commands import AddContact, EditContact, EditPartner, RegisterPartner, SetPreferences
from ..domain.errors import ContactErased as ContactGone
from ..domain.errors import NotFound, PartnerNotFound
from ..domain.partner import (
    Contact,
    Partner,
    contact_edited,
    contact_to_add,
    contact_to_erase,
    partner_edited,
    partner_to_register,
)
from ..domain.relations import Preferences, preferences_change, preferences_from
from .outcome import Outcome, publish


async def register_partner(pool: asyncpg.Pool, command: RegisterPartner, correlation_id: str) -> Outcome[Partner]:
    async with pool.acquire() as conn, conn.transaction():
        existing = await partners.get(conn, command.partner_id)
        partner = partner_to_register(command, existing)
        if partner is None:
            assert existing is not None  # None is "exactly this partner exists already"
            return Outcome(existing, None)
        if not await partners.insert(conn, partner):
            # A concurrent request registered this id first: judge ours against it.
            existing = await partners.get(conn, command.partner_id)
            partner_to_register(command, existing)
            assert existing is not None  # the insert met its row, and partners are never deleted
            return Outcome(existing, None)
        event = await publish(
            conn,
            PartnerRegistered(
                partner_id=partner.partner_id,
                name=partner.name,
                kind=partner.kind,
                level=partner.level,
                territory=partner.territory,
            ),
            key=partner.partner_id,
            correlation_id=correlation_id,
        )
        return Outcome(partner, event)


async def add_contact(
    pool: asyncpg.Pool, partner_id: str, command: AddContact, correlation_id: str
) -> Outcome[Contact]:
    wanted = Contact(
        command.contact_id or uuid.uuid4().hex, partner_id, command.name, str(command.email), command.language
    )
    async with pool.acquire() as conn, conn.transaction():
        if not await partners.lock(conn, partner_id):
            raise PartnerNotFound(f"no partner {partner_id!r}", "partner_id")
        same_id = await contacts.by_id(conn, wanted.contact_id)
        same_email = await contacts.by_email(conn, partner_id, str(command.email))
        contact = contact_to_add(wanted, same_id, same_email, id_given=command.contact_id is not None)
        if contact is None:
            existing = same_id or same_email
            assert existing is not None  # None is "exactly this contact exists already"
            return Outcome(existing, None)
        await contacts.insert(conn, contact)
        event = await publish(
            conn,
            ContactAdded(
                partner_id=partner_id,
                contact_id=contact.contact_id,
                name=contact.name,
                email=contact.email,
                language=contact.language,
            ),
            key=partner_id,
            correlation_id=correlation_id,
        )
        return Outcome(contact, event)


async def edit_partner(
    pool: asyncpg.Pool, partner_id: str, command: EditPartner, correlation_id: str
) -> Outcome[Partner]:
    """Change a partner's name or territory, and announce it whole (PartnerChanged); the
    same values again change nothing and publish nothing."""
    async with pool.acquire() as conn, conn.transaction():
        if not await partners.lock(conn, partner_id):
            raise PartnerNotFound(f"no partner {partner_id!r}", "partner_id")
        existing = await partners.get(conn, partner_id)
        assert existing is not None  # locked above, and partners are never deleted
        edited = partner_edited(existing, command)
        if edited is None:
            return Outcome(existing, None)
        await partners.update(conn, edited)
        event = await publish(
            conn,
            PartnerChanged(
                partner_id=edited.partner_id,
                name=edited.name,
                kind=edited.kind,
                level=edited.level,
                territory=edited.territory,
            ),
            key=partner_id,
            correlation_id=correlation_id,
        )
        return Outcome(edited, event)


async def _locked_contact(conn: asyncpg.Connection, contact_id: str) -> Contact:
    contact = await contacts.lock(conn, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id!r}", "contact_id")
    return contact


async def edit_contact(
    pool: asyncpg.Pool, contact_id: str, command: EditContact, correlation_id: str
) -> Outcome[Contact]:
    """Change a contact's name, address or language, and announce it whole (ContactChanged,
    keyed by partner like ContactAdded, so the notifier's copy follows in order)."""
    async with pool.acquire() as conn, conn.transaction():
        # The partner first, as add_contact locks it: two contacts of one partner cannot
        # both take the same address.
        existing = await contacts.by_id(conn, contact_id)
        if existing is None:
            raise NotFound(f"no contact {contact_id!r}", "contact_id")
        await partners.lock(conn, existing.partner_id)
        existing = await _locked_contact(conn, contact_id)
        same_email = await contacts.by_email(conn, existing.partner_id, command.email) if command.email else None
        edited = contact_edited(existing, command, same_email)
        if edited is None:
            return Outcome(existing, None)
        await contacts.update(conn, edited)
        assert edited.name is not None and edited.email is not None  # not erased: contact_edited refuses that
        event = await publish(
            conn,
            ContactChanged(
                partner_id=edited.partner_id,
                contact_id=edited.contact_id,
                name=edited.name,
                email=edited.email,
                language=edited.language,
            ),
            key=edited.partner_id,
            correlation_id=correlation_id,
        )
        return Outcome(edited, event)


async def erase_contact(pool: asyncpg.Pool, contact_id: str, correlation_id: str) -> Outcome[Contact]:
    """Erase a contact's personal data on request (GDPR art. 17), in one transaction: the
    tombstone, their preferences gone, this service's outbox events that carry their name
    or address gone (adapters.contacts.erase), and ContactErased, which carries none of it,
    for the notifier to erase its copy. Erasing again changes nothing."""
    async with pool.acquire() as conn, conn.transaction():
        existing = await _locked_contact(conn, contact_id)
        if not contact_to_erase(existing):
            return Outcome(existing, None)
        erased = await contacts.erase(conn, contact_id)
        event = await publish(
            conn,
            ContactErased(partner_id=erased.partner_id, contact_id=contact_id),
            key=erased.partner_id,
            correlation_id=correlation_id,
        )
        return Outcome(erased, event)


async def set_preferences(
    pool: asyncpg.Pool, contact_id: str, command: SetPreferences, correlation_id: str
) -> Outcome[Preferences]:
    wanted = preferences_from(command)
    async with pool.acquire() as conn, conn.transaction():
        partner_id = await preferences.lock_contact(conn, contact_id)
        if partner_id is None:
            raise NotFound(f"no contact {contact_id!r}", "contact_id")
        contact = await contacts.by_id(conn, contact_id)
        if contact is not None and contact.erased:
            raise ContactGone(f"contact {contact_id!r} was erased on request: it has no preferences", "contact_id")
        if not preferences_change(await preferences.get(conn, contact_id), wanted):
            return Outcome(wanted, None)
        await preferences.put(conn, contact_id, wanted)
        event = await publish_preferences(conn, partner_id, contact_id, wanted, correlation_id)
        return Outcome(wanted, event)


async def publish_preferences(
    conn: asyncpg.Connection,
    partner_id: str,
    contact_id: str,
    prefs: Preferences,
    correlation_id: str,
    reason: str | None = None,
) -> uuid.UUID:
    """ContactPreferencesChanged, in the caller's transaction. Keyed by partner, like
    ContactAdded: a contact's preferences follow its creation."""
    return await publish(
        conn,
        ContactPreferencesChanged(
            partner_id=partner_id,
            contact_id=contact_id,
            channels=list(prefs.channels),
            language=prefs.language,
            cadence=prefs.cadence,
            event_kinds=list(prefs.event_kinds),
            kinds=dict(prefs.kinds),
            reason=reason,
        ),
        key=partner_id,
        correlation_id=correlation_id,
    )
