"""The notifier's consumer use cases, each run inside the idempotent consumer's
transaction: the projection of partner events, and the planning of deliveries for a
status change (one row per person, written with the inbox record of the cause event)."""

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from regia_shared.consumer import Received
from regia_shared.events.objectives import ObjectiveStatusChanged
from regia_shared.events.partners import ContactAdded, ObjectiveLeadAssigned, PartnerRegistered

from .adapters import deliveries, directory
from .domain.delivery import plan_email_alerts


async def project_partner_events(conn: asyncpg.Connection, events: Sequence[Received]) -> None:
    for event in events:
        payload = event.payload
        if isinstance(payload, PartnerRegistered):
            await directory.upsert_partner(conn, payload)
        elif isinstance(payload, ContactAdded):
            await directory.upsert_contact(conn, payload)
        elif isinstance(payload, ObjectiveLeadAssigned):
            await directory.assign_lead(conn, payload.objective_id, payload.partner_id,
                                        event.envelope.occurred_at, event.envelope.event_id)


@dataclass(frozen=True)
class Planned:
    lead: str | None
    recipients: int
    new: int  # fewer than recipients when the event was planned before

    @property
    def addressed(self) -> bool:
        return self.recipients > 0


async def plan_alerts(conn: asyncpg.Connection, event: Received) -> Planned:
    change = event.payload
    assert isinstance(change, ObjectiveStatusChanged)
    lead = await directory.lead_of(conn, change.objective_id)
    if lead is None:
        return Planned(None, 0, 0)
    recipients = await directory.contacts_of(conn, lead)
    planned = plan_email_alerts(change, recipients, cause_event_id=event.envelope.event_id,
                                correlation_id=event.envelope.correlation_id)
    return Planned(lead, len(planned), await deliveries.add(conn, planned))
