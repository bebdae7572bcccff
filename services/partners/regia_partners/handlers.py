"""The partners service's use cases. Each runs in one transaction: a refused command
writes nothing, an accepted one writes its state and its outbox event together."""

import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

import asyncpg

from regia_shared import outbox, topics
from regia_shared.events.envelope import Envelope, EventPayload
from regia_shared.events.partners import ContactAdded, ObjectiveLeadAssigned, PartnerRegistered

from .adapters import contacts, leads, partners
from .domain.commands import AddContact, AssignLead, RegisterPartner
from .domain.errors import PartnerNotFound
from .domain.partner import Contact, Partner, contact_to_add, lead_changes, partner_to_register


T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T
    event_id: uuid.UUID | None  # None: nothing changed, nothing published

    @property
    def created(self) -> bool:
        return self.event_id is not None


async def register_partner(pool: asyncpg.Pool, command: RegisterPartner,
                           correlation_id: str) -> Outcome[Partner]:
    async with pool.acquire() as conn, conn.transaction():
        existing = await partners.get(conn, command.partner_id)
        partner = partner_to_register(command, existing)
        if partner is None:
            return Outcome(existing, None)  # type: ignore[arg-type]
        if not await partners.insert(conn, partner):
            # A concurrent request registered this id first: judge ours against it.
            existing = await partners.get(conn, command.partner_id)
            partner_to_register(command, existing)
            return Outcome(existing, None)  # type: ignore[arg-type]
        event = await _publish(conn, PartnerRegistered(
            partner_id=partner.partner_id, name=partner.name, kind=partner.kind, level=partner.level,
        ), key=partner.partner_id, correlation_id=correlation_id)
        return Outcome(partner, event)


async def add_contact(pool: asyncpg.Pool, partner_id: str, command: AddContact,
                      correlation_id: str) -> Outcome[Contact]:
    wanted = Contact(command.contact_id or uuid.uuid4().hex, partner_id, command.name,
                     str(command.email), command.language)
    async with pool.acquire() as conn, conn.transaction():
        if not await partners.lock(conn, partner_id):
            raise PartnerNotFound(f"no partner {partner_id!r}", "partner_id")
        same_id = await contacts.by_id(conn, wanted.contact_id)
        same_email = await contacts.by_email(conn, partner_id, wanted.email)
        contact = contact_to_add(wanted, same_id, same_email, id_given=command.contact_id is not None)
        if contact is None:
            return Outcome(same_id or same_email, None)  # type: ignore[arg-type]
        await contacts.insert(conn, contact)
        event = await _publish(conn, ContactAdded(
            partner_id=partner_id, contact_id=contact.contact_id, name=contact.name,
            email=contact.email, language=contact.language,  # type: ignore[arg-type]
        ), key=partner_id, correlation_id=correlation_id)
        return Outcome(contact, event)


async def assign_lead(pool: asyncpg.Pool, objective_id: str, command: AssignLead,
                      correlation_id: str) -> Outcome[str]:
    async with pool.acquire() as conn, conn.transaction():
        if await partners.get(conn, command.partner_id) is None:
            raise PartnerNotFound(f"no partner {command.partner_id!r}", "partner_id")
        await leads.lock(conn, objective_id)
        if not lead_changes(await leads.current(conn, objective_id), command.partner_id):
            return Outcome(command.partner_id, None)
        await leads.assign(conn, objective_id, command.partner_id)
        # Keyed by objective: successive leads of one objective stay in order.
        event = await _publish(conn, ObjectiveLeadAssigned(
            objective_id=objective_id, partner_id=command.partner_id,
        ), key=objective_id, correlation_id=correlation_id)
        return Outcome(command.partner_id, event)


async def _publish(conn: asyncpg.Connection, payload: EventPayload, *, key: str,
                   correlation_id: str) -> uuid.UUID:
    envelope = Envelope.wrap(payload, key=key, producer="partners", correlation_id=correlation_id)
    await outbox.append(conn, topics.PARTNERS, [envelope])
    return envelope.event_id
