"""Deliveries: one message to one person (or one webhook endpoint) about one event. Pure.

A delivery's id is derived from what makes it unique (cause event, channel, recipient),
so re-planning the same alert yields the same id: the message's Message-ID is then
stable too, and a recipient's mail client can drop a copy sent twice after a crash.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from .messages import Language
from .retry import AttemptOutcome, DeliveryStatus

_NAMESPACE = uuid.UUID("5d0f3c39-3d8b-4f8e-9a47-7c1d2a6b0e11")


@dataclass(frozen=True)
class Recipient:
    """A contact as the partners service's events describe them, and how they want to be
    told: by which channels, of which kinds (`event_kinds`; None: every kind), and at what
    e-mail cadence, `cadence` unless `kinds` gives a kind its own, or `off` (no e-mail of
    it; its webhook calls still go). Kinds are strings (regia_shared.contracts.alert_kinds):
    a kind this version does not know is simply one nobody set a cadence for."""

    contact_id: str
    partner_id: str
    name: str
    email: str
    language: Language
    channels: tuple[str, ...] = ("email", "webhook")
    cadence: str = "immediate"  # or "daily_digest", "weekly_digest"
    event_kinds: tuple[str, ...] | None = None  # None: every kind
    kinds: tuple[tuple[str, str], ...] = ()  # a kind's own e-mail cadence, or "off"

    def wants(self, trigger: str, channel: str) -> bool:
        kind = str(trigger)  # a Trigger is a StrEnum, whose str() is its value
        if channel not in self.channels or (self.event_kinds is not None and kind not in self.event_kinds):
            return False
        return channel != "email" or dict(self.kinds).get(kind) != "off"

    def cadence_for(self, trigger: str) -> str:
        """How an e-mail of this kind goes: "immediate", "daily_digest" or "weekly_digest".
        Asked of a kind `wants` turned down for e-mail (`off`), it answers `cadence`."""
        own = dict(self.kinds).get(str(trigger), self.cadence)
        return self.cadence if own == "off" else own


@dataclass(frozen=True)
class NewDelivery:
    delivery_id: uuid.UUID
    cause_event_id: uuid.UUID
    correlation_id: str
    objective_id: str | None  # the plan, for a review; none for a digest
    channel: str
    recipient: str
    recipient_name: str
    contact_id: str | None
    partner_id: str
    language: Language
    subject: str
    body: str
    body_html: str | None = None
    kind: str = "alert"  # or "digest"
    trigger: str | None = None
    rules: tuple[str, ...] = ()
    origin_at: datetime | None = None  # when the chain that caused it started; None for a digest


def delivery_id(cause_event_id: uuid.UUID, channel: str, recipient: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{cause_event_id}|{channel}|{recipient.lower()}")


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
    body_html: str | None = None
    retry_from: int = 0  # the attempt count when an administrator last retried it
    origin_at: datetime | None = None
    # Whom and what it is about, for the e-mail's one-click unsubscribe: none without a
    # contact (a webhook's, an address no contact owns).
    contact_id: str | None = None
    kind: str = "alert"  # or "digest"
    trigger: str | None = None  # the alert's name (delivery's `trigger`); none for a digest


@dataclass(frozen=True)
class Concluded:
    """An attempt's outcome as recorded, and where it left the delivery."""

    delivery: ClaimedDelivery
    outcome: AttemptOutcome
    status: DeliveryStatus


@dataclass(frozen=True)
class WebhookTarget:
    webhook_id: str
    partner_id: str
    contact_id: str | None
    url: str
