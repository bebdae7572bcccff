"""The partners service's use cases. Each runs in one transaction: a refused command
writes nothing, an accepted one writes its state and its outbox event together."""

import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

import asyncpg

from regia_shared import outbox, topics
from regia_shared.events.envelope import Envelope, EventPayload
from regia_shared.events.partners import (
    ContactAdded,
    ContactPreferencesChanged,
    NetworkFormed,
    NetworkMemberJoined,
    NetworkMemberLeft,
    ObjectiveLeadAssigned,
    ObjectiveRole,
    ObjectiveRoleAssigned,
    ObjectiveRoleWithdrawn,
    PartnerRegistered,
)

from .adapters import contacts, leads, networks, partners, preferences, roles
from .domain.commands import (
    AddContact,
    AssignLead,
    FormNetwork,
    JoinNetwork,
    LeaveNetwork,
    RegisterPartner,
    SetPreferences,
)
from .domain.errors import NotFound, PartnerNotFound
from .domain.partner import (
    Contact,
    Partner,
    contact_to_add,
    lead_changes,
    partner_to_register,
)
from .domain.relations import (
    Membership,
    Network,
    Preferences,
    membership_to_close,
    membership_to_open,
    network_to_form,
    preferences_change,
    preferences_from,
    role_assignable,
)

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
            territory=partner.territory,
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


async def assign_role(pool: asyncpg.Pool, objective_id: str, partner_id: str, role: ObjectiveRole,
                      correlation_id: str) -> Outcome[ObjectiveRole]:
    return await _change_role(pool, objective_id, partner_id, role, correlation_id, assign=True)


async def withdraw_role(pool: asyncpg.Pool, objective_id: str, partner_id: str, role: ObjectiveRole,
                        correlation_id: str) -> Outcome[ObjectiveRole]:
    """Withdrawing a role the partner does not hold is a no-op: a retried DELETE succeeds."""
    return await _change_role(pool, objective_id, partner_id, role, correlation_id, assign=False)


async def _change_role(pool: asyncpg.Pool, objective_id: str, partner_id: str, role: ObjectiveRole,
                       correlation_id: str, *, assign: bool) -> Outcome[ObjectiveRole]:
    role_assignable(role)
    async with pool.acquire() as conn, conn.transaction():
        if await partners.get(conn, partner_id) is None:
            raise PartnerNotFound(f"no partner {partner_id!r}", "partner_id")
        await roles.lock(conn, objective_id)
        changed = await (roles.add if assign else roles.remove)(conn, objective_id, partner_id, role)
        if not changed:
            return Outcome(role, None)
        event_type = ObjectiveRoleAssigned if assign else ObjectiveRoleWithdrawn
        event = await _publish(conn, event_type(objective_id=objective_id, partner_id=partner_id, role=role),
                               key=objective_id, correlation_id=correlation_id)
        return Outcome(role, event)


async def form_network(pool: asyncpg.Pool, command: FormNetwork,
                       correlation_id: str) -> Outcome[Network]:
    async with pool.acquire() as conn, conn.transaction():
        coordinator = command.coordinator_partner_id
        if coordinator is not None and await partners.get(conn, coordinator) is None:
            raise PartnerNotFound(f"no partner {coordinator!r}", "coordinator_partner_id")
        existing = await networks.get(conn, command.network_id)
        network = network_to_form(command, existing)
        if network is None:
            return Outcome(existing, None)  # type: ignore[arg-type]
        if not await networks.insert(conn, network):
            existing = await networks.get(conn, command.network_id)
            network_to_form(command, existing)
            return Outcome(existing, None)  # type: ignore[arg-type]
        event = await _publish(conn, NetworkFormed(
            network_id=network.network_id, name=network.name, founded_on=network.founded_on,
            coordinator_partner_id=network.coordinator_partner_id, objective_id=network.objective_id,
        ), key=network.network_id, correlation_id=correlation_id)
        return Outcome(network, event)


async def _locked_network(conn: asyncpg.Connection, network_id: str, partner_id: str) -> Network:
    network = await networks.get(conn, network_id, lock=True)
    if network is None:
        raise NotFound(f"no network {network_id!r}", "network_id")
    if await partners.get(conn, partner_id) is None:
        raise PartnerNotFound(f"no partner {partner_id!r}", "partner_id")
    return network


async def join_network(pool: asyncpg.Pool, network_id: str, partner_id: str, command: JoinNetwork,
                       correlation_id: str) -> Outcome[Membership]:
    async with pool.acquire() as conn, conn.transaction():
        network = await _locked_network(conn, network_id, partner_id)
        history = await networks.history(conn, network_id, partner_id)
        membership = membership_to_open(network, history, partner_id, command.joined_on)
        if membership is None:
            return Outcome(Membership(partner_id, command.joined_on), None)
        await networks.open_membership(conn, network_id, membership)
        # Keyed by network: a partner's joining and leaving stay in order.
        event = await _publish(conn, NetworkMemberJoined(
            network_id=network_id, partner_id=partner_id, joined_on=membership.joined_on,
        ), key=network_id, correlation_id=correlation_id)
        return Outcome(membership, event)


async def leave_network(pool: asyncpg.Pool, network_id: str, partner_id: str, command: LeaveNetwork,
                        correlation_id: str) -> Outcome[Membership]:
    async with pool.acquire() as conn, conn.transaction():
        await _locked_network(conn, network_id, partner_id)
        history = await networks.history(conn, network_id, partner_id)
        membership = membership_to_close(history, partner_id, command.left_on)
        if membership is None:
            return Outcome(max(history, key=lambda m: m.joined_on), None)
        await networks.close_membership(conn, network_id, membership)
        event = await _publish(conn, NetworkMemberLeft(
            network_id=network_id, partner_id=partner_id, left_on=command.left_on,
        ), key=network_id, correlation_id=correlation_id)
        return Outcome(membership, event)


async def set_preferences(pool: asyncpg.Pool, contact_id: str, command: SetPreferences,
                          correlation_id: str) -> Outcome[Preferences]:
    wanted = preferences_from(command)
    async with pool.acquire() as conn, conn.transaction():
        partner_id = await preferences.lock_contact(conn, contact_id)
        if partner_id is None:
            raise NotFound(f"no contact {contact_id!r}", "contact_id")
        if not preferences_change(await preferences.get(conn, contact_id), wanted):
            return Outcome(wanted, None)
        await preferences.put(conn, contact_id, wanted)
        # Keyed by partner, like ContactAdded: a contact's preferences follow its creation.
        event = await _publish(conn, ContactPreferencesChanged(
            partner_id=partner_id, contact_id=contact_id, channels=list(wanted.channels),  # type: ignore[arg-type]
            language=wanted.language, cadence=wanted.cadence,  # type: ignore[arg-type]
            event_kinds=list(wanted.event_kinds),  # type: ignore[arg-type]
        ), key=partner_id, correlation_id=correlation_id)
        return Outcome(wanted, event)


async def _publish(conn: asyncpg.Connection, payload: EventPayload, *, key: str,
                   correlation_id: str) -> uuid.UUID:
    envelope = Envelope.wrap(payload, key=key, producer="partners", correlation_id=correlation_id)
    await outbox.append(conn, topics.PARTNERS, [envelope])
    return envelope.event_id
