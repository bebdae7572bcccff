"""The notifier's consumer use cases, each run inside the idempotent consumer's
transaction: the projection of partner events, and the planning of deliveries for a
status change (one row per person, written with the inbox record of the cause event)."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from regia_shared.consumer import Received
from regia_shared.events.objectives import ObjectiveStatusChanged
from regia_shared.events.partners import ContactAdded, ObjectiveLeadAssigned, PartnerRegistered

from .adapters import deliveries, directory, webhooks
from .domain.delivery import plan_email_alerts, plan_webhook_alerts


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
    new_by_channel: dict[str, int] = field(default_factory=dict)

    @property
    def addressed(self) -> bool:
        return self.recipients > 0


async def plan_alerts(conn: asyncpg.Connection, event: Received) -> Planned:
    change = event.payload
    assert isinstance(change, ObjectiveStatusChanged)
    lead = await directory.lead_of(conn, change.objective_id)
    if lead is None:
        return Planned(None, 0, 0)
    envelope = event.envelope
    recipients = await directory.contacts_of(conn, lead)
    emails = plan_email_alerts(change, recipients, cause_event_id=envelope.event_id,
                               correlation_id=envelope.correlation_id)
    hooks = plan_webhook_alerts(change, await webhooks.active_of(conn, lead),
                                cause_event_id=envelope.event_id,
                                correlation_id=envelope.correlation_id,
                                occurred_at=envelope.occurred_at)
    new = {"email": await deliveries.add(conn, emails), "webhook": await deliveries.add(conn, hooks)}
    return Planned(lead, len(emails) + len(hooks), sum(new.values()), new)
