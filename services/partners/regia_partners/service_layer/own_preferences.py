"""A contact changing their own e-mail preferences through a link of one of their e-mails:
the one-click unsubscribe (RFC 8058) and the preferences page, both served by the console,
which calls these with the link's token.

The link was verified before these run (entrypoints: regia_shared.contracts.preference_links);
what it allows is checked here: an `unsubscribe` link only turns its own kinds off, a
`preferences` link changes that contact's e-mail choices, and either reads them. A change
is written and published like an administrator's (ContactPreferencesChanged, in the same
transaction), with the reason it came from the contact; asking for what already holds
changes nothing and publishes nothing, so a mail scanner or a second click is harmless.
"""

from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from regia_shared.contracts.preference_links import PreferenceLink, Purpose

from ..adapters import contacts, preferences
from ..domain.commands import ChooseOwnPreferences
from ..domain.errors import LinkNotForThis, NotFound
from ..domain.partner import Contact
from ..domain.relations import Preferences, chosen, default_preferences, preferences_change, unsubscribed
from .outcome import Outcome
from .registration import publish_preferences

ONE_CLICK = "one-click unsubscribe"
PREFERENCES_PAGE = "preferences page"


@dataclass(frozen=True)
class OwnPreferences:
    contact: Contact
    preferences: Preferences
    link: PreferenceLink


async def read(pool: asyncpg.Pool, link: PreferenceLink) -> OwnPreferences:
    async with pool.acquire() as conn:
        contact = await _contact(conn, link)
        current = await preferences.get(conn, link.contact_id) or default_preferences(contact.language)
    return OwnPreferences(contact, current, link)


async def unsubscribe(pool: asyncpg.Pool, link: PreferenceLink, correlation_id: str) -> Outcome[OwnPreferences]:
    _allows(link, "unsubscribe")
    return await _change(pool, link, lambda current: unsubscribed(current, link.kinds), ONE_CLICK, correlation_id)


async def choose(
    pool: asyncpg.Pool, link: PreferenceLink, command: ChooseOwnPreferences, correlation_id: str
) -> Outcome[OwnPreferences]:
    _allows(link, "preferences")
    return await _change(pool, link, lambda current: chosen(current, command), PREFERENCES_PAGE, correlation_id)


def _allows(link: PreferenceLink, purpose: Purpose) -> None:
    if link.purpose != purpose:
        raise LinkNotForThis(
            "this link only stops e-mails; change your preferences with the link at the foot of the e-mail"
            if link.purpose == "unsubscribe"
            else "this is a preferences link, not an unsubscribe link"
        )


async def _change(
    pool: asyncpg.Pool,
    link: PreferenceLink,
    change: Callable[[Preferences], Preferences],
    reason: str,
    correlation_id: str,
) -> Outcome[OwnPreferences]:
    async with pool.acquire() as conn, conn.transaction():
        partner_id = await preferences.lock_contact(conn, link.contact_id)
        contact = await _contact(conn, link)
        stored = await preferences.get(conn, link.contact_id)
        current = stored or default_preferences(contact.language)
        wanted = change(current)
        # With no row yet, the defaults are what the notifier applies: the same is no change.
        if not preferences_change(current, wanted):
            return Outcome(OwnPreferences(contact, current, link), None)
        assert partner_id is not None  # the contact was found, under the lock
        await preferences.put(conn, link.contact_id, wanted)
        event = await publish_preferences(conn, partner_id, link.contact_id, wanted, correlation_id, reason)
        return Outcome(OwnPreferences(contact, wanted, link), event)


async def _contact(conn: asyncpg.Connection, link: PreferenceLink) -> Contact:
    contact = await contacts.by_id(conn, link.contact_id)
    if contact is None or contact.erased:
        raise NotFound("the contact this link was made for no longer exists", "contact_id")
    return contact
