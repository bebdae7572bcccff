"""Who is told about an objective's change, one delivery per person. Pure.

A delivery's id is derived from what makes it unique (cause event, channel, recipient),
so re-planning the same alert yields the same id: the message's Message-ID is then
stable too, and a recipient's mail client can drop a copy sent twice after a crash.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from regia_shared.events.objectives import ObjectiveStatusChanged

from .message import Language, render_status_change

_NAMESPACE = uuid.UUID("5d0f3c39-3d8b-4f8e-9a47-7c1d2a6b0e11")


@dataclass(frozen=True)
class Recipient:
    contact_id: str
    partner_id: str
    name: str
    email: str
    language: Language


@dataclass(frozen=True)
class NewDelivery:
    delivery_id: uuid.UUID
    cause_event_id: uuid.UUID
    correlation_id: str
    objective_id: str
    channel: str
    recipient: str
    recipient_name: str
    contact_id: str | None
    partner_id: str
    language: Language
    subject: str
    body: str


def delivery_id(cause_event_id: uuid.UUID, channel: str, recipient: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{cause_event_id}|{channel}|{recipient.lower()}")


def plan_email_alerts(change: ObjectiveStatusChanged, recipients: list[Recipient], *,
                      cause_event_id: uuid.UUID, correlation_id: str) -> list[NewDelivery]:
    planned: dict[str, NewDelivery] = {}
    for r in recipients:
        if r.email.lower() in planned:
            continue  # one person listed twice is still told once
        message = render_status_change(change, language=r.language, name=r.name,
                                       event_id=str(cause_event_id))
        planned[r.email.lower()] = NewDelivery(
            delivery_id(cause_event_id, "email", r.email), cause_event_id, correlation_id,
            change.objective_id, "email", r.email, r.name, r.contact_id, r.partner_id,
            r.language, message.subject, message.text)
    return list(planned.values())


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery a dispatcher holds for one attempt. `attempt` doubles as the claim's
    token: an outcome is recorded only if the delivery is still at that attempt."""

    delivery_id: uuid.UUID
    attempt: int
    cause_event_id: uuid.UUID
    correlation_id: str
    channel: str
    recipient: str
    recipient_name: str
    language: str
    subject: str
    body: str


@dataclass(frozen=True)
class WebhookTarget:
    webhook_id: str
    partner_id: str
    contact_id: str | None
    url: str


def plan_webhook_alerts(change: ObjectiveStatusChanged, endpoints: list[WebhookTarget], *,
                        cause_event_id: uuid.UUID, correlation_id: str,
                        occurred_at: datetime) -> list[NewDelivery]:
    """One delivery per endpoint; the recipient is the endpoint's id (its URL and secret are
    looked up when sending, so a removed endpoint is never called). The body is what the
    request will carry, less the ids the dispatcher adds."""
    body = json.dumps({"type": type(change).event_type(), "occurred_at": occurred_at.isoformat(),
                       "objective": change.model_dump(mode="json")}, ensure_ascii=False)
    subject = f"{change.title} {change.fiscal_year}: {change.status.value}"
    return [NewDelivery(delivery_id(cause_event_id, "webhook", e.webhook_id), cause_event_id,
                        correlation_id, change.objective_id, "webhook", e.webhook_id, e.url,
                        e.contact_id, e.partner_id, "en", subject, body)
            for e in {e.webhook_id: e for e in endpoints}.values()]
