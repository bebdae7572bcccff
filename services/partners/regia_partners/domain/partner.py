"""Partners, their contacts and the lead role, and the rules of registering them. Pure.

Every create is idempotent on its id: the same data again is a no-op (a client may retry
after a timeout), different data under a known id is a conflict.
"""

from dataclasses import dataclass

from regia_shared.contracts.events.partners import PartnerKind
from regia_shared.contracts.levels import GovernmentLevel

from .commands import Language, RegisterPartner
from .errors import Conflict, InvalidPartner


@dataclass(frozen=True)
class Partner:
    partner_id: str
    name: str
    kind: PartnerKind
    level: GovernmentLevel | None
    territory: str | None = None


@dataclass(frozen=True)
class Contact:
    contact_id: str
    partner_id: str
    name: str
    email: str
    language: Language

    def same_person(self, other: "Contact") -> bool:
        return (self.partner_id, self.name, self.email.lower(), self.language) == (
            other.partner_id,
            other.name,
            other.email.lower(),
            other.language,
        )


def partner_to_register(command: RegisterPartner, existing: Partner | None) -> Partner | None:
    """The partner to create, or None when exactly this partner already exists."""
    if command.kind is PartnerKind.INSTITUTION and command.level is None:
        # Funding is accepted per level of government: an institution without one could
        # never fund, and the funding service would silently ignore it.
        raise InvalidPartner("an INSTITUTION needs its level of government", "level")
    wanted = Partner(command.partner_id, command.name, command.kind, command.level, command.territory)
    if existing is None:
        return wanted
    if existing != wanted:
        raise Conflict(f"partner {command.partner_id!r} is already registered with other data", "partner_id")
    return None


def contact_to_add(
    wanted: Contact, same_id: Contact | None, same_email: Contact | None, *, id_given: bool
) -> Contact | None:
    """The contact to create, or None when exactly this contact already exists.

    Without a client-chosen id the address identifies the person, so a retried request
    finds the contact it created; with one, the id does, and an address already taken
    by another id is a conflict."""
    if same_id is not None:
        if not same_id.same_person(wanted):
            raise Conflict(f"contact {wanted.contact_id!r} already exists with other data", "contact_id")
        return None
    if same_email is not None:
        if id_given or not same_email.same_person(wanted):
            raise Conflict(f"{wanted.email} is already a contact of {wanted.partner_id!r}", "email")
        return None
    return wanted


def lead_changes(current_partner_id: str | None, wanted_partner_id: str) -> bool:
    return current_partner_id != wanted_partner_id
