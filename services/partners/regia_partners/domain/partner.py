"""Partners, their contacts and the lead role, and the rules of registering them. Pure.

Every create is idempotent on its id: the same data again is a no-op (a client may retry
after a timeout), different data under a known id is a conflict.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from regia_shared.contracts.events.partners import PartnerKind
from regia_shared.contracts.levels import GovernmentLevel

from .commands import EditContact, EditPartner, Language, RegisterPartner
from .errors import Conflict, ContactErased, InvalidPartner


@dataclass(frozen=True)
class Partner:
    partner_id: str
    name: str
    kind: PartnerKind
    level: GovernmentLevel | None
    territory: str | None = None


@dataclass(frozen=True)
class Contact:
    """A person to tell. Once erased on request (`erased_at` set) name and email are None:
    the id stays so that references hold, the person is gone."""

    contact_id: str
    partner_id: str
    name: str | None
    email: str | None
    language: Language
    erased_at: datetime | None = None

    @property
    def erased(self) -> bool:
        return self.erased_at is not None

    def same_person(self, other: "Contact") -> bool:
        if self.erased or other.erased:
            return False
        return (self.partner_id, self.name, (self.email or "").lower(), self.language) == (
            other.partner_id,
            other.name,
            (other.email or "").lower(),
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
        if same_id.erased:
            raise ContactErased(
                f"contact {wanted.contact_id!r} was erased on request: add the person anew", "contact_id"
            )
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


def partner_edited(existing: Partner, command: EditPartner) -> Partner | None:
    """The partner with the fields the command gives, or None when that changes nothing."""
    given = command.model_fields_set
    edited = replace(
        existing,
        name=command.name if "name" in given and command.name is not None else existing.name,
        territory=command.territory if "territory" in given else existing.territory,
    )
    return None if edited == existing else edited


def contact_edited(existing: Contact, command: EditContact, same_email: Contact | None) -> Contact | None:
    """The contact with the fields the command gives, or None when that changes nothing.

    An erased contact is never edited back (the person asked to be forgotten); an address
    another contact of the partner has is a conflict, as when adding."""
    if existing.erased:
        raise ContactErased(f"contact {existing.contact_id!r} was erased on request and cannot be changed")
    given = command.model_fields_set
    edited = replace(
        existing,
        name=command.name if "name" in given and command.name else existing.name,
        email=command.email if "email" in given and command.email else existing.email,
        language=command.language if "language" in given and command.language else existing.language,
    )
    if same_email is not None and same_email.contact_id != existing.contact_id:
        raise Conflict(f"{edited.email} is already a contact of {existing.partner_id!r}", "email")
    return None if edited == existing else edited


def contact_to_erase(existing: Contact) -> bool:
    """Whether erasing changes anything: erasing an erased contact again is a no-op, so a
    retried request succeeds."""
    return not existing.erased
