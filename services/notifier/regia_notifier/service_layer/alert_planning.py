"""Planning the alerts of a batch's events, inside the consumer's transaction: each event
becomes an occurrence (completed from the projections), then the rules that match, the
partners they reach, the people and endpoints of those partners, and then webhook
deliveries (sent by the dispatcher) and queued e-mail alerts (put into one message per
person when their grouping window closes or their digest is due: message_assembly),
written with the inbox record of the cause event, so a redelivered event plans nothing
twice. Who hears of what, and how, is decided
by domain.planning; this reads what it needs and writes what it decided.

What is no alert at all never gets that far: an objectives event caused by history funding
(its `history` marker: money of a closed year recorded for the record, issue 19), and
(domain.occurrences.silenced) a year's first status, and a status change or funding drop of a year before the budget window (its first
year is the setting REGIA_FUNDING_WINDOW_FIRST_YEAR, moved past every year a closed annual
review has ended). An alert that reaches nobody is kept (`unaddressed_alerts`). A new lead
is told its objective's current state once: at the assignment if a status of the objective
is known, else when its first status arrives (adapters.owed_briefings)."""

from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from regia_shared.contracts import fiscal
from regia_shared.contracts.catalogue import CONSOLE
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.funding import FundingRevoked
from regia_shared.contracts.events.objectives import (
    ObjectiveCoverageChanged,
    ObjectiveDefined,
    ObjectiveStatusChanged,
)
from regia_shared.contracts.events.partners import ObjectiveLeadAssigned
from regia_shared.contracts.events.plans import AnnualReviewClosed
from regia_shared.messaging.consumer import Received
from regia_shared.observability.logs import get_logger
from regia_shared.statements import write_together

from ..adapters import (
    audiences,
    budget_window,
    deliveries,
    directory,
    objectives_seen,
    owed_briefings,
    rules,
    waiting_alerts,
    webhooks,
)
from ..adapters.metrics import NotifierMetrics
from ..adapters.owed_briefings import Owed
from ..adapters.unaddressed import Unaddressed
from ..adapters.unaddressed import add as keep_unaddressed
from ..domain.digest import next_digest_at, next_weekly_digest_at
from ..domain.occurrences import (
    CurrentState,
    LineRevoked,
    Occurrence,
    YearState,
    current_state,
    first_alerting_year,
    silenced,
)
from ..domain.planning import AlertPlan, Cause, DigestTimes, Planned, plan_alerts, planned, reached_partners
from ..domain.rules import Audience, Rule, matching
from .occurrence_lookup import occurrence_of, situate
from .projection import project_objectives_defined, project_partner_events

log = get_logger(__name__)


class AlertPlanner:
    """Plans the alerts of a consumer batch's occurrences together: the rules, the role
    holders, the contacts and the endpoints are each read with one statement for the whole
    batch, and the deliveries and queued alerts written with one statement each. Planned
    one occurrence at a time, that was seven round trips per event, which made the notifier
    the first thing to fall behind under a steady 200 funding events a second."""

    def __init__(
        self,
        digest_at: time,
        zone: ZoneInfo,
        *,
        weekly_digest_day: int = 0,
        window_first_year: int,
        today: Callable[[], date],
        console_url: str = CONSOLE.default_url,
    ) -> None:
        self._digest_at, self._zone, self._weekday = digest_at, zone, weekly_digest_day
        self._window_first_year, self._today = window_first_year, today
        self._console_url = console_url  # where an alert links to the objective's page

    def _digests(self, after: datetime) -> DigestTimes:
        return DigestTimes(
            next_digest_at(after, self._digest_at, self._zone),
            next_weekly_digest_at(after, self._digest_at, self._weekday, self._zone),
        )

    async def _first_year(self, conn: asyncpg.Connection) -> tuple[int | None, int]:
        """The last year a review closed, and the first year that may alert."""
        closed = await budget_window.last_closed_year(conn)
        return closed, first_alerting_year(self._window_first_year, closed)

    async def plan_events(self, conn: asyncpg.Connection, events: Sequence[Received]) -> list[Planned]:
        """The use case of the objectives' and funding subscribers: a batch of their events,
        in order, each an objective's definition (recorded), or an occurrence to plan."""
        # Every coverage change is recorded, drop or not (the next is measured against it),
        # for the whole batch at once: what each replaces is read, with the budget window,
        # in one round trip, and what the batch leaves is written with its states in one more.
        changes = [(e, e.payload) for e in events if isinstance(e.payload, ObjectiveCoverageChanged)]
        held, known_closed = await objectives_seen.held_and_last_closed(
            conn, sorted({(c.objective_id, c.fiscal_year) for _, c in changes})
        )
        replaced, commitments = objectives_seen.swapped(
            [(c.objective_id, c.fiscal_year, c.committed_cents, c.committed_by_level) for _, c in changes], held
        )
        before = dict(zip([id(e) for e, _ in changes], replaced, strict=True))
        first_year = first_alerting_year(self._window_first_year, known_closed)
        closed = known_closed
        states: list[tuple[str, int, str, YearState, datetime]] = []
        found: list[tuple[Occurrence, Received]] = []
        # The batch's definitions first, in one statement: what its other events are planned
        # against then knows every objective the batch defines (titles, parents, thresholds).
        await project_objectives_defined(conn, [e.payload for e in events if isinstance(e.payload, ObjectiveDefined)])
        for event in events:
            payload = event.payload
            if isinstance(payload, ObjectiveDefined):
                continue
            if isinstance(payload, ObjectiveStatusChanged | ObjectiveCoverageChanged):
                state = YearState(
                    payload.fiscal_year,
                    payload.status,
                    payload.coverage_bp,
                    payload.need_cents,
                    payload.committed_cents,
                )
                states.append(
                    (payload.objective_id, payload.fiscal_year, payload.title, state, event.envelope.occurred_at)
                )
            if isinstance(payload, AnnualReviewClosed) and fiscal.has_ended(payload.fiscal_year, self._today()):
                # As funding does: the review of a year that has ended moves the window past it.
                closed = payload.fiscal_year if closed is None else max(closed, payload.fiscal_year)
                first_year = first_alerting_year(self._window_first_year, closed)
            if getattr(payload, "history", False):
                # Caused by history funding (a closed year's money, recorded for the record):
                # it informs the reads, and nobody is alerted, by e-mail or webhook.
                log.debug("no alert", reason="history", event_id=str(event.envelope.event_id))
                continue
            occurrence = await occurrence_of(conn, payload, before.get(id(event)))
            if occurrence is None:
                continue
            why = silenced(occurrence, first_year)
            if why is not None:
                log.debug(
                    "no alert",
                    reason=why,
                    trigger=occurrence.trigger.value,
                    objective_id=getattr(occurrence, "objective_id", None),
                    event_id=str(event.envelope.event_id),
                )
                continue
            found.append((occurrence, event))
        # In the order they were always written (commitments, window, states): two batches
        # take their locks in the same order.
        window = budget_window.closing(closed) if closed is not None and closed != known_closed else None
        saving_states = objectives_seen.states_saved(states)
        writes = [w for w in (commitments, window, saving_states) if w is not None]
        written = await write_together(conn, writes) if writes else []
        first_known = objectives_seen.first_known(written[-1]) if saving_states is not None else set()
        # A lead assigned before any of these statuses reached the notifier is owed its briefing.
        briefed = await self._brief_owed(conn, first_known) if first_known else []
        told = (
            await situate(conn, [o for o, _ in found], self._console_url, [e.envelope.correlation_id for _, e in found])
            if found
            else []
        )
        plans = await self.plan_all(conn, [(o, e.envelope) for o, (_, e) in zip(told, found, strict=True)])
        for plan, (_, event) in zip(plans, found, strict=True):
            _log(plan, event)
        return [*plans, *briefed]

    async def apply_funding_events(self, conn: asyncpg.Connection, events: Sequence[Received]) -> list[Planned]:
        """The use case of the funding subscriber, given the events its claim found new: each
        is recorded as the cause its objectives events will be told with by that claim
        (`funding_causes.claim`, the subscriber's record of what it applied, so a redelivery
        records nothing twice); a revoked line is an alert of its own."""
        revoked = [e for e in events if isinstance(e.payload, FundingRevoked)]
        return await self.plan_events(conn, revoked) if revoked else []

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
                    digests=self._digests(envelope.occurred_at),
                )
            )
        new_deliveries = await deliveries.add(conn, [d for p in plans if p for d in p.deliveries])
        new_queued = await waiting_alerts.add(conn, [q for p in plans if p for q in p.queued])
        summaries = [
            planned(o, m, to, plan, new_deliveries, new_queued)
            for (o, _), m, to, plan in zip(occurrences, matched, reached, plans, strict=True)
        ]
        await keep_unaddressed(
            conn,
            [
                _unaddressed(summary, occurrence, envelope.event_id, envelope.occurred_at)
                for summary, (occurrence, envelope) in zip(summaries, occurrences, strict=True)
                if not summary.addressed
            ],
        )
        return summaries

    async def apply_partner_events(self, conn: asyncpg.Connection, events: Sequence[Received]) -> list[Planned]:
        """The use case of the partners' subscriber: project who is who, then tell each lead
        an objective was just handed to its current state."""
        return await self.brief_new_leads(conn, await project_partner_events(conn, events))

    async def brief_new_leads(self, conn: asyncpg.Connection, assignments: Sequence[Received]) -> list[Planned]:
        """One message per lead assignment, to the new lead: the objective's years in the
        budget window that are not funded (nothing if they all are). An objective of which no
        status is known yet owes its lead that message until its first status arrives
        (`plan_events`), behind the objective's gate (adapters.owed_briefings). Its cause is
        the assignment event, so replaying it plans the same deliveries."""
        if not assignments:
            return []
        await owed_briefings.pass_gate(conn, [_assigned(e).objective_id for e in assignments])
        due: list[tuple[Owed, str | None, list[YearState]]] = []
        owed: list[Owed] = []
        for event in assignments:
            assigned = _assigned(event)
            envelope = event.envelope
            lead = Owed(
                assigned.objective_id,
                assigned.partner_id,
                envelope.event_id,
                envelope.type,
                envelope.correlation_id,
                envelope.occurred_at,
            )
            title, years = await objectives_seen.states_of(conn, assigned.objective_id)
            if years:
                due.append((lead, title, years))
            else:
                owed.append(lead)
                log.info(
                    "briefing owed to a new lead until the objective's first status",
                    objective_id=lead.objective_id,
                    partner=lead.partner_id,
                    event_id=str(lead.event_id),
                )
        # What is owed is kept; the other gates are let go (and what an earlier lead of a
        # known objective was still owed is dropped: the new lead replaced it).
        await owed_briefings.owe(conn, owed)
        owing = {o.objective_id for o in owed}
        await owed_briefings.take(conn, {lead.objective_id for lead, _, _ in due} - owing)
        return await self._brief(conn, due)

    async def _brief_owed(self, conn: asyncpg.Connection, first_known: set[str]) -> list[Planned]:
        """Tell the leads owed a briefing on these objectives, whose first status this
        transaction just recorded, their current state."""
        await owed_briefings.pass_gate(conn, first_known)
        due = []
        for lead in await owed_briefings.take(conn, first_known):
            title, years = await objectives_seen.states_of(conn, lead.objective_id)
            due.append((lead, title, years))
        return await self._brief(conn, due)

    async def _brief(
        self, conn: asyncpg.Connection, due: Sequence[tuple[Owed, str | None, list[YearState]]]
    ) -> list[Planned]:
        """Plan the briefing of each lead: its objective's unfunded years in the window."""
        _, first_year = await self._first_year(conn) if due else (None, 0)
        found: list[tuple[CurrentState, Owed]] = []
        for lead, title, years in due:
            state = current_state(lead.objective_id, title or lead.objective_id, years, first_year)
            if state is not None:
                found.append((state, lead))
        if not found:
            return []
        told = await situate(conn, [state for state, _ in found], self._console_url)
        found = [(state, lead) for state, (_, lead) in zip(told, found, strict=True) if isinstance(state, CurrentState)]
        partners = sorted({lead.partner_id for _, lead in found})
        people = await directory.contacts_of_partners(conn, partners)
        endpoints = await webhooks.active_of_partners(conn, partners)
        plans = [
            plan_alerts(
                state,
                {lead.partner_id: ()},
                [p for p in people if p.partner_id == lead.partner_id],
                [e for e in endpoints if e.partner_id == lead.partner_id],
                Cause(lead.event_id, lead.event_type, lead.correlation_id, lead.occurred_at),
                digests=self._digests(lead.occurred_at),
            )
            for state, lead in found
        ]
        new_deliveries = await deliveries.add(conn, [d for p in plans for d in p.deliveries])
        new_queued = await waiting_alerts.add(conn, [q for p in plans for q in p.queued])
        summaries = []
        for (state, lead), plan in zip(found, plans, strict=True):
            summary = planned(state, [], {lead.partner_id: ()}, plan, new_deliveries, new_queued)
            summaries.append(summary)
            if summary.recipients == 0:
                # No rule matched, so `addressed` holds; still, nobody heard: kept as well.
                await keep_unaddressed(conn, [_unaddressed(summary, state, lead.event_id, lead.occurred_at)])
            log.info(
                "current state planned for a new lead",
                objective_id=state.objective_id,
                partner=lead.partner_id,
                years=[y.fiscal_year for y in state.years],
                event_id=str(lead.event_id),
                new=summary.new_by_channel,
            )
        return summaries

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
        if plan.addressed and plan.recipients:
            for channel, new in plan.new_by_channel.items():
                metrics.planned.labels(channel).inc(new)
        elif plan.rules or plan.trigger == CurrentState.alert:
            metrics.unaddressed.labels(plan.trigger).inc()


def _assigned(event: Received) -> ObjectiveLeadAssigned:
    assigned = event.payload
    assert isinstance(assigned, ObjectiveLeadAssigned)
    return assigned


def _unaddressed(summary: Planned, occurrence: Occurrence, event_id: UUID, occurred_at: datetime) -> Unaddressed:
    return Unaddressed(
        event_id,
        summary.trigger,
        summary.objective_id,
        None if isinstance(occurrence, CurrentState) else occurrence.fiscal_year,
        summary.rules,
        summary.partners,
        "no partner holds the rules' audiences"
        if not summary.partners
        else "their contacts and endpoints want none of it",
        occurred_at,
    )


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
