"""The notifier's projections, each applied inside the idempotent consumer's
transaction: who is who (partner events) and what the objectives are (objective events).
The notifier learns people, roles, networks and preferences only from these events."""

from collections.abc import Sequence

import asyncpg

from regia_shared.contracts.events.objectives import ObjectiveDefined
from regia_shared.contracts.events.partners import (
    ContactAdded,
    ContactChanged,
    ContactErased,
    ContactPreferencesChanged,
    NetworkFormed,
    NetworkMemberJoined,
    NetworkMemberLeft,
    ObjectiveLeadAssigned,
    ObjectiveRole,
    ObjectiveRoleAssigned,
    ObjectiveRoleWithdrawn,
    PartnerChanged,
    PartnerRegistered,
)
from regia_shared.messaging.consumer import Received

from ..adapters import directory, erasure, objectives_seen, relations

PARTNER_EVENTS = (
    PartnerRegistered,
    ContactAdded,
    ObjectiveLeadAssigned,
    ObjectiveRoleAssigned,
    ObjectiveRoleWithdrawn,
    NetworkFormed,
    NetworkMemberJoined,
    NetworkMemberLeft,
    ContactPreferencesChanged,
    PartnerChanged,
    ContactChanged,
    ContactErased,
)


async def project_partner_events(conn: asyncpg.Connection, events: Sequence[Received]) -> list[Received]:
    """Apply each in turn; returns the lead assignments that handed an objective to a new
    lead (whom the alert planner then tells the objective's current state)."""
    return [event for event in events if await project_partner_event(conn, event)]


async def project_partner_event(conn: asyncpg.Connection, event: Received) -> bool:
    """Apply one; True if it was a lead assignment that handed the objective to a new lead."""
    payload, at = event.payload, event.envelope.occurred_at
    match payload:
        case PartnerRegistered() | PartnerChanged():
            await directory.upsert_partner(conn, payload)
        case ContactAdded() | ContactChanged():
            await directory.upsert_contact(conn, payload)
        case ContactErased():
            await erasure.erase_contact(conn, payload.contact_id, payload.partner_id)
        case ObjectiveLeadAssigned():
            return await directory.assign_lead(
                conn, payload.objective_id, payload.partner_id, at, event.envelope.event_id
            )
        case ObjectiveRoleAssigned() | ObjectiveRoleWithdrawn() if payload.role is ObjectiveRole.LEAD:
            pass  # the lead travels as ObjectiveLeadAssigned, which is what the lead audience reads
        case ObjectiveRoleAssigned():
            await relations.set_role(conn, payload.objective_id, payload.partner_id, payload.role.value, True, at)
        case ObjectiveRoleWithdrawn():
            await relations.set_role(conn, payload.objective_id, payload.partner_id, payload.role.value, False, at)
        case NetworkFormed():
            await relations.form_network(conn, payload)
        case NetworkMemberJoined():
            await relations.join_network(conn, payload)
        case NetworkMemberLeft():
            await relations.leave_network(conn, payload)
        case ContactPreferencesChanged():
            # An erased contact has no preferences: a late one must not recreate them.
            if not await directory.erased(conn, payload.contact_id):
                await relations.set_preferences(conn, payload, at)
    return False


async def project_objectives_defined(conn: asyncpg.Connection, defined: Sequence[ObjectiveDefined]) -> None:
    """Record what a batch's definitions say of their objectives, all at once."""
    await objectives_seen.define(conn, defined)
