"""Who hears of an occurrence, by which channel and when. Pure.

The rules named partners (each with the rules that reached it); here each of their
contacts is told once, whatever number of rules or roles reached them: by e-mail now,
or in their daily digest, as their preferences say. Webhook endpoints of those partners
get the occurrence as JSON, immediately (a machine has no use for a digest).
"""

import dataclasses
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from .delivery import NewDelivery, Recipient, WebhookTarget, delivery_id
from .messages import Rendered, render_alert
from .messages.alerts import describe
from .occurrences import Occurrence, ReviewClosed, Trigger


@dataclass(frozen=True)
class Cause:
    event_id: uuid.UUID
    event_type: str
    correlation_id: str
    occurred_at: datetime
    origin_at: datetime | None = None  # when its chain started (a funding event's acceptance)


@dataclass(frozen=True)
class DigestEntry:
    """An alert waiting for its recipient's daily digest."""

    cause_event_id: uuid.UUID
    email: str
    contact_id: str
    partner_id: str
    recipient_name: str
    language: str
    correlation_id: str
    objective_id: str | None
    trigger: str
    rules: tuple[str, ...]
    subject: str
    section_text: str
    section_html: str
    due_at: datetime


@dataclass(frozen=True)
class AlertPlan:
    deliveries: list[NewDelivery]
    digest: list[DigestEntry]


def subject_objective(occurrence: Occurrence) -> str | None:
    """The objective a delivery is filed under: the plan, for a review."""
    return occurrence.plan_id if isinstance(occurrence, ReviewClosed) else occurrence.objective_id


def plan_alerts(occurrence: Occurrence, reached: dict[str, tuple[str, ...]], people: list[Recipient],
                endpoints: list[WebhookTarget], cause: Cause, *, digest_due_at: datetime) -> AlertPlan:
    """`reached`: partner id → the rules that reached it."""
    trigger = occurrence.trigger
    by_address: dict[str, tuple[Recipient, set[str]]] = {}
    for person in people:
        if person.partner_id not in reached or not person.wants(trigger, "email"):
            continue
        # One person listed under two partners (or twice) is still told once, for every rule.
        _, rules = by_address.setdefault(person.email.lower(), (person, set()))
        rules.update(reached[person.partner_id])
    deliveries, digest = [], []
    for address, (person, rules) in by_address.items():
        message = render_alert(occurrence, language=person.language, name=person.name,
                               event_id=str(cause.event_id))
        if person.cadence == "daily_digest":
            digest.append(_digest_entry(occurrence, person, address, tuple(sorted(rules)), message,
                                        cause, digest_due_at))
        else:
            deliveries.append(NewDelivery(
                delivery_id(cause.event_id, "email", person.email), cause.event_id, cause.correlation_id,
                subject_objective(occurrence), "email", person.email, person.name, person.contact_id,
                person.partner_id, person.language, message.subject, message.text,
                body_html=message.html, trigger=trigger.value, rules=tuple(sorted(rules)),
                origin_at=cause.origin_at))
    deliveries += _webhooks(occurrence, reached, people, endpoints, cause)
    return AlertPlan(deliveries, digest)


def _digest_entry(occurrence: Occurrence, person: Recipient, address: str, rules: tuple[str, ...],
                  message: Rendered, cause: Cause, due_at: datetime) -> DigestEntry:
    return DigestEntry(cause.event_id, address, person.contact_id, person.partner_id, person.name,
                       person.language, cause.correlation_id, subject_objective(occurrence),
                       occurrence.trigger.value, rules, message.subject, message.section_text,
                       message.section_html, due_at)


def _webhooks(occurrence: Occurrence, reached: dict[str, tuple[str, ...]], people: list[Recipient],
              endpoints: list[WebhookTarget], cause: Cause) -> list[NewDelivery]:
    """One delivery per endpoint of a reached partner. An endpoint registered for one
    contact follows that contact's preferences. The recipient is the endpoint's id: its
    URL and secret are looked up when sending, so a removed endpoint is never called."""
    if not endpoints:
        return []
    contacts = {p.contact_id: p for p in people}
    subject = describe(occurrence, "en").subject
    planned = []
    for e in {e.webhook_id: e for e in endpoints}.values():
        owner = contacts.get(e.contact_id) if e.contact_id else None
        if e.partner_id not in reached or (owner is not None and not owner.wants(occurrence.trigger, "webhook")):
            continue
        rules = reached[e.partner_id]
        planned.append(NewDelivery(
            delivery_id(cause.event_id, "webhook", e.webhook_id), cause.event_id, cause.correlation_id,
            subject_objective(occurrence), "webhook", e.webhook_id, e.url, e.contact_id, e.partner_id,
            "en", subject, webhook_body(occurrence, cause, rules), trigger=occurrence.trigger.value,
            rules=rules, origin_at=cause.origin_at))
    return planned


_SUBJECT_KEY = {Trigger.STATUS_CHANGED: "objective", Trigger.FUNDING_DROPPED: "objective",
                Trigger.LINE_REVOKED: "line", Trigger.REVIEW_CLOSED: "review"}


def webhook_body(occurrence: Occurrence, cause: Cause, rules: tuple[str, ...]) -> str:
    """What the request will carry, less the ids the dispatcher adds when sending."""
    facts = dataclasses.asdict(occurrence)
    return json.dumps({"type": cause.event_type, "alert": occurrence.trigger.value, "rules": list(rules),
                       "occurred_at": cause.occurred_at.isoformat(),
                       _SUBJECT_KEY[occurrence.trigger]: facts},
                      ensure_ascii=False)
