"""Planning the alerts of a batch's events, inside the consumer's transaction: each event
becomes an occurrence (completed from the projections), then the rules that match, the
partners they reach, the people and endpoints of those partners, and then deliveries
(sent by the dispatcher) or digest entries, written with the inbox record of the cause
event, so a redelivered event plans nothing twice. Who hears of what, and how, is decided
by domain.planning; this reads what it needs and writes what it decided."""

from collections.abc import Sequence
from datetime import time
from zoneinfo import ZoneInfo

import asyncpg

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import ObjectiveCoverageChanged, ObjectiveDefined
from regia_shared.messaging.consumer import Received
from regia_shared.observability.logs import get_logger

from ..adapters import audiences, deliveries, digests, directory, objectives_seen, rules, webhooks
from ..adapters.metrics import NotifierMetrics
from ..domain.digest import next_digest_at
from ..domain.occurrences import LineRevoked, Occurrence
from ..domain.planning import AlertPlan, Cause, Planned, plan_alerts, planned, reached_partners
from ..domain.rules import Audience, Rule, matching
from .occurrence_lookup import occurrence_of
from .projection import project_objective_defined

log = get_logger(__name__)


class AlertPlanner:
    """Plans the alerts of a consumer batch's occurrences together: the rules, the role
    holders, the contacts and the endpoints are each read with one statement for the whole
    batch, and the deliveries and digest entries written with one statement each. Planned
    one occurrence at a time, that was seven round trips per event, which made the notifier
    the first thing to fall behind under a steady 200 funding events a second."""

    def __init__(self, digest_at: time, zone: ZoneInfo) -> None:
        self._digest_at, self._zone = digest_at, zone

    async def plan_events(self, conn: asyncpg.Connection, events: Sequence[Received]) -> list[Planned]:
        """The use case of the objectives' and funding subscribers: a batch of their events,
        in order, each an objective's definition (recorded), or an occurrence to plan."""
        # Every coverage change is recorded, drop or not (the next is measured against it),
        # for the whole batch at once.
        changes = [(e, e.payload) for e in events if isinstance(e.payload, ObjectiveCoverageChanged)]
        before = dict(
            zip(
                [id(e) for e, _ in changes],
                await objectives_seen.swap_committed(
                    conn, [(c.objective_id, c.fiscal_year, c.committed_cents) for _, c in changes]
                ),
                strict=True,
            )
        )
        found: list[tuple[Occurrence, Received]] = []
        for event in events:
            if isinstance(event.payload, ObjectiveDefined):
                await project_objective_defined(conn, event.payload)
                continue
            occurrence = await occurrence_of(conn, event.payload, before.get(id(event)))
            if occurrence is not None:
                found.append((occurrence, event))
        plans = await self.plan_all(conn, [(o, e.envelope) for o, e in found])
        for plan, (_, event) in zip(plans, found, strict=True):
            _log(plan, event)
        return plans

    async def plan_all(
        self, conn: asyncpg.Connection, occurrences: Sequence[tuple[Occurrence, Envelope]]
    ) -> list[Planned]:
        by_trigger = {t: await rules.enabled_for(conn, t) for t in {o.trigger for o, _ in occurrences}}
        matched = [matching(by_trigger[o.trigger], o) for o, _ in occurrences]
        wanted = {a for rules_ in matched for rule in rules_ for a in rule.audience}
        held = await audiences.holders_by_objective(conn, [i for o, _ in occurrences for i in o.objective_ids], wanted)
        reached = [await self._reached(conn, o, m, e, held) for (o, e), m in zip(occurrences, matched, strict=True)]
        partners = sorted({p for r in reached for p in r})
        people = await directory.contacts_of_partners(conn, partners) if partners else []
        endpoints = await webhooks.active_of_partners(conn, partners) if partners else []
        plans: list[AlertPlan | None] = []
        for (occurrence, envelope), to in zip(occurrences, reached, strict=True):
            if not to:
                plans.append(None)
                continue
            # Only a chain a funding event started has an origin: the histogram measures the
            # time from a funding event's acceptance to its alert, not from a need edited by hand.
            origin = envelope.origin if isinstance(occurrence, LineRevoked) else envelope.origin_at
            cause = Cause(envelope.event_id, envelope.type, envelope.correlation_id, envelope.occurred_at, origin)
            plans.append(
                plan_alerts(
                    occurrence,
                    to,
                    [p for p in people if p.partner_id in to],
                    [e for e in endpoints if e.partner_id in to],
                    cause,
                    digest_due_at=next_digest_at(envelope.occurred_at, self._digest_at, self._zone),
                )
            )
        new_deliveries = await deliveries.add(conn, [d for p in plans if p for d in p.deliveries])
        new_digest = await digests.add(conn, [d for p in plans if p for d in p.digest])
        return [
            planned(o, m, to, plan, new_deliveries, new_digest)
            for (o, _), m, to, plan in zip(occurrences, matched, reached, plans, strict=True)
        ]

    @staticmethod
    async def _reached(
        conn: asyncpg.Connection,
        occurrence: Occurrence,
        matched: list[Rule],
        envelope: Envelope,
        held: dict[str, list[tuple[str, Audience]]],
    ) -> dict[str, tuple[str, ...]]:
        """Partner id → the rules that reached it."""
        members: list[str] = []
        if any(Audience.NETWORK_MEMBERS in rule.audience for rule in matched):
            members = await audiences.network_members(conn, occurrence.objective_ids, envelope.occurred_at.date())
        return reached_partners(occurrence, matched, held, members)


def count_planned(metrics: NotifierMetrics, plans: Sequence[Planned]) -> None:
    """Count what a batch planned. Called after the batch's transaction committed: a batch
    rolled back and redelivered is counted once, when it finally commits."""
    for plan in plans:
        if plan.addressed:
            for channel, new in plan.new_by_channel.items():
                metrics.planned.labels(channel).inc(new)
        else:
            metrics.unaddressed.inc()


def _log(plan: Planned, event: Received) -> None:
    context = {
        "trigger": plan.trigger,
        "objective_id": plan.objective_id,
        "event_id": str(event.envelope.event_id),
        "rules": list(plan.rules),
    }
    if not plan.addressed:
        log.warning(
            "alert with nobody to tell",
            **context,
            partners=list(plan.partners),
            reason="no partner holds the rules' audiences"
            if not plan.partners
            else "their contacts and endpoints want none of it",
        )
    elif plan.rules:
        log.info("alerts planned", **context, partners=list(plan.partners), new=plan.new_by_channel)
