"""Planning the alerts of one occurrence, inside the consumer's transaction: the rules
that match, the partners they reach, the people and endpoints of those partners, and
then deliveries (sent by the dispatcher) or digest entries, written with the inbox
record of the cause event, so a redelivered event plans nothing twice."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

import asyncpg

from regia_shared.events.envelope import Envelope

from .adapters import audiences, deliveries, digests, directory, rules, webhooks
from .domain.digest import next_digest_at
from .domain.occurrences import LineRevoked, Occurrence
from .domain.planning import Cause, plan_alerts, subject_objective
from .domain.rules import Audience, Rule, matching


@dataclass(frozen=True)
class Planned:
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


class AlertPlanner:
    def __init__(self, digest_at: time, zone: ZoneInfo) -> None:
        self._digest_at, self._zone = digest_at, zone

    async def plan(self, conn: asyncpg.Connection, occurrence: Occurrence, envelope: Envelope) -> Planned:
        matched = matching(await rules.enabled_for(conn, occurrence.trigger), occurrence)
        reached = await self._reached(conn, occurrence, matched, envelope)
        planned = Planned(occurrence.trigger.value, subject_objective(occurrence),
                          tuple(r.rule_id for r in matched), tuple(sorted(reached)))
        if not reached:
            return planned
        # Only a chain a funding event started has an origin: the histogram measures the
        # time from a funding event's acceptance to its alert, not from a need edited by hand.
        origin = envelope.origin if isinstance(occurrence, LineRevoked) else envelope.origin_at
        cause = Cause(envelope.event_id, envelope.type, envelope.correlation_id, envelope.occurred_at, origin)
        plan = plan_alerts(occurrence, reached, await directory.contacts_of_partners(conn, list(reached)),
                           await webhooks.active_of_partners(conn, list(reached)), cause,
                           digest_due_at=next_digest_at(envelope.occurred_at, self._digest_at, self._zone))
        new = {"email": await deliveries.add(conn, [d for d in plan.deliveries if d.channel == "email"]),
               "webhook": await deliveries.add(conn, [d for d in plan.deliveries if d.channel == "webhook"]),
               "digest": await digests.add(conn, plan.digest)}
        return Planned(planned.trigger, planned.objective_id, planned.rules, planned.partners,
                       len(plan.deliveries) + len(plan.digest), new)

    @staticmethod
    async def _reached(conn: asyncpg.Connection, occurrence: Occurrence, matched: list[Rule],
                       envelope: Envelope) -> dict[str, tuple[str, ...]]:
        """Partner id → the rules that reached it."""
        reached: dict[str, set[str]] = defaultdict(set)
        for rule in matched:
            wanted = set(rule.audience)
            for partner, _ in await audiences.holders(conn, occurrence.objective_ids, wanted):
                reached[partner].add(rule.rule_id)
            if Audience.NETWORK_MEMBERS in wanted:
                on = envelope.occurred_at.date()
                for partner in await audiences.network_members(conn, occurrence.objective_ids, on):
                    reached[partner].add(rule.rule_id)
            if Audience.LINE_INSTITUTION in wanted and isinstance(occurrence, LineRevoked):
                reached[occurrence.institution_id].add(rule.rule_id)
        return {partner: tuple(sorted(ids)) for partner, ids in reached.items()}
