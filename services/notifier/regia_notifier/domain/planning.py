"""Who hears of an occurrence, by which channel and when. Pure.

The rules named partners (each with the rules that reached it); here each of their
contacts is told once, whatever number of rules or roles reached them: by e-mail now,
or in their daily digest, as their preferences say. Webhook endpoints of those partners
get the occurrence as JSON, immediately (a machine has no use for a digest).
"""

import dataclasses
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .coverage_gap import Gap
from .delivery import NewDelivery, Recipient, WebhookTarget, delivery_id
from .messages import Rendered, render_alert
from .messages.alerts import describe
from .occurrences import (
    CurrentState,
    FundingDrop,
    LineRevoked,
    Occurrence,
    ReviewClosed,
    StatusChange,
    Trigger,
    alert_name,
)
from .rules import Audience, Rule
from .webhook_payload import planned_body


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


@dataclass(frozen=True)
class Planned:
    """What planning one occurrence came to: what the consumer logs and counts."""

    trigger: str
    objective_id: str | None
    rules: tuple[str, ...]  # the rules that matched
    partners: tuple[str, ...]  # the partners they reached
    recipients: int = 0  # people and endpoints told, now or in a digest, new or planned before
    new_by_channel: dict[str, int] = field(default_factory=dict)  # "digest" counts queued alerts

    @property
    def addressed(self) -> bool:
        """Whether anyone was there to tell (or nobody needed to be: no rule matched)."""
        return not self.rules or self.recipients > 0

    @property
    def new(self) -> int:
        return sum(self.new_by_channel.values())


def reached_partners(
    occurrence: Occurrence,
    matched: list[Rule],
    held: dict[str, list[tuple[str, Audience]]],
    network_members: Sequence[str],
) -> dict[str, tuple[str, ...]]:
    """Partner id → the rules that reached it. `held`: objective id → the partners holding
    a role on it, and which; `network_members`: the partners of the objectives' networks
    on the day of the occurrence (read only if a matched rule wants them)."""
    reached: dict[str, set[str]] = defaultdict(set)
    for rule in matched:
        wanted = set(rule.audience)
        for objective_id in occurrence.objective_ids:
            for partner, role in held.get(objective_id, ()):
                if role in wanted:
                    reached[partner].add(rule.rule_id)
        if Audience.NETWORK_MEMBERS in wanted:
            for partner in network_members:
                reached[partner].add(rule.rule_id)
        if Audience.LINE_INSTITUTION in wanted and isinstance(occurrence, LineRevoked):
            reached[occurrence.institution_id].add(rule.rule_id)
    return {partner: tuple(sorted(ids)) for partner, ids in reached.items()}


def planned(
    occurrence: Occurrence,
    matched: list[Rule],
    reached: dict[str, tuple[str, ...]],
    plan: AlertPlan | None,
    new_deliveries: set[uuid.UUID],
    new_digest: set[tuple[uuid.UUID, str]],
) -> Planned:
    """What an occurrence's plan came to, given which of its deliveries and digest entries
    were new (the others had been planned before, by an earlier delivery of the event)."""
    summary = Planned(
        alert_name(occurrence),
        subject_objective(occurrence),
        tuple(r.rule_id for r in matched),
        tuple(sorted(reached)),
    )
    if plan is None:
        return summary
    new = {
        channel: sum(d.delivery_id in new_deliveries for d in plan.deliveries if d.channel == channel)
        for channel in ("email", "webhook")
    }
    new["digest"] = sum((d.cause_event_id, d.email) in new_digest for d in plan.digest)
    return Planned(
        summary.trigger,
        summary.objective_id,
        summary.rules,
        summary.partners,
        len(plan.deliveries) + len(plan.digest),
        new,
    )


def subject_objective(occurrence: Occurrence) -> str | None:
    """The objective a delivery is filed under: the plan, for a review."""
    return occurrence.plan_id if isinstance(occurrence, ReviewClosed) else occurrence.objective_id


def plan_alerts(
    occurrence: Occurrence,
    reached: dict[str, tuple[str, ...]],
    people: list[Recipient],
    endpoints: list[WebhookTarget],
    cause: Cause,
    *,
    digest_due_at: datetime,
) -> AlertPlan:
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
        message = render_alert(
            occurrence,
            language=person.language,
            name=person.name,
            event_id=str(cause.event_id),
            preferences_url=person.preferences_url,
        )
        if person.cadence_for(trigger) == "daily_digest":
            digest.append(
                _digest_entry(occurrence, person, address, tuple(sorted(rules)), message, cause, digest_due_at)
            )
        else:
            deliveries.append(
                NewDelivery(
                    delivery_id(cause.event_id, "email", person.email),
                    cause.event_id,
                    cause.correlation_id,
                    subject_objective(occurrence),
                    "email",
                    person.email,
                    person.name,
                    person.contact_id,
                    person.partner_id,
                    person.language,
                    message.subject,
                    message.text,
                    body_html=message.html,
                    trigger=alert_name(occurrence),
                    rules=tuple(sorted(rules)),
                    origin_at=cause.origin_at,
                )
            )
    deliveries += _webhooks(occurrence, reached, people, endpoints, cause)
    return AlertPlan(deliveries, digest)


def _digest_entry(
    occurrence: Occurrence,
    person: Recipient,
    address: str,
    rules: tuple[str, ...],
    message: Rendered,
    cause: Cause,
    due_at: datetime,
) -> DigestEntry:
    return DigestEntry(
        cause.event_id,
        address,
        person.contact_id,
        person.partner_id,
        person.name,
        person.language,
        cause.correlation_id,
        subject_objective(occurrence),
        alert_name(occurrence),
        rules,
        message.subject,
        message.section_text,
        message.section_html,
        due_at,
    )


def _webhooks(
    occurrence: Occurrence,
    reached: dict[str, tuple[str, ...]],
    people: list[Recipient],
    endpoints: list[WebhookTarget],
    cause: Cause,
) -> list[NewDelivery]:
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
        planned.append(
            NewDelivery(
                delivery_id(cause.event_id, "webhook", e.webhook_id),
                cause.event_id,
                cause.correlation_id,
                subject_objective(occurrence),
                "webhook",
                e.webhook_id,
                e.url,
                e.contact_id,
                e.partner_id,
                "en",
                subject,
                webhook_body(occurrence, cause, rules),
                trigger=alert_name(occurrence),
                rules=rules,
                origin_at=cause.origin_at,
            )
        )
    return planned


def _gap_fields(gap: Gap | None) -> dict[str, int | None]:
    return {
        "gap_to_threshold_cents": None if gap is None else gap.to_threshold_cents,
        "gap_to_full_cents": None if gap is None else gap.to_full_cents,
    }


_SUBJECT_KEY = {
    Trigger.STATUS_CHANGED: "objective",
    Trigger.FUNDING_DROPPED: "objective",
    Trigger.LINE_REVOKED: "line",
    Trigger.REVIEW_CLOSED: "review",
}


def webhook_body(occurrence: Occurrence, cause: Cause, rules: tuple[str, ...]) -> str:
    """What the request will carry, less the ids the dispatcher adds when sending, built
    by the published models (webhook_payload). Of an objective-year: its fields, and what
    is missing to the threshold and to 100 % (`gap_to_threshold_cents`,
    `gap_to_full_cents`, null when the year has no need or the threshold is not known);
    of the current state, the same for each year."""
    facts = dataclasses.asdict(occurrence)
    if isinstance(occurrence, StatusChange | FundingDrop):
        facts |= _gap_fields(occurrence.gap)
    elif isinstance(occurrence, CurrentState):
        facts["years"] = [
            year | _gap_fields(occurrence.gap(state))
            for year, state in zip(facts["years"], occurrence.years, strict=True)
        ]
    body = planned_body(
        cause.event_type,
        alert_name(occurrence),
        rules,
        cause.occurred_at,
        _SUBJECT_KEY[occurrence.trigger],
        facts,
    )
    return json.dumps(body, ensure_ascii=False)
