"""Planning the alerts of a batch's events, inside the consumer's transaction: each event
becomes an occurrence (completed from the projections), then the rules that match, the
partners they reach, the people and endpoints of those partners, and then deliveries
(sent by the dispatcher) or digest entries, written with the inbox record of the cause
event, so a redelivered event plans nothing twice. Who hears of what, and how, is decided
by domain.planning; this reads what it needs and writes what it decided.

What is no alert at all never gets that far (domain.occurrences.silenced): a year's first
status, and a status change or funding drop of a year before the budget window (its first
year is the setting REGIA_FUNDING_WINDOW_FIRST_YEAR, moved past every year a closed annual
review has ended). An alert that reaches nobody is kept (`unaddressed_alerts`). A lead
assigned after an objective's statuses were known is told its current state once."""

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import asyncpg

from regia_shared.contracts import fiscal
from regia_shared.contracts.catalogue import CONSOLE
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import (
    ObjectiveCoverageChanged,
    ObjectiveDefined,
    ObjectiveStatusChanged,
)
from regia_shared.contracts.events.partners import ObjectiveLeadAssigned
from regia_shared.contracts.events.plans import AnnualReviewClosed
from regia_shared.messaging.consumer import Received
from regia_shared.observability.logs import get_logger

from ..adapters import audiences, budget_window, deliveries, digests, directory, objectives_seen, rules, webhooks
from ..adapters.metrics import NotifierMetrics
from ..adapters.unaddressed import Unaddressed
from ..adapters.unaddressed import add as keep_unaddressed
from ..domain.delivery import Recipient
from ..domain.digest import next_digest_at
from ..domain.occurrences import (
    CurrentState,
    LineRevoked,
    Occurrence,
    YearState,
    current_state,
    first_alerting_year,
    silenced,
)
from ..domain.planning import AlertPlan, Cause, Planned, plan_alerts, planned, reached_partners
from ..domain.preference_links import PreferenceLinks
from ..domain.rules import Audience, Rule, matching
from .occurrence_lookup import occurrence_of, situate
from .projection import project_objective_defined, project_partner_events

log = get_logger(__name__)


class AlertPlanner:
    """Plans the alerts of a consumer batch's occurrences together: the rules, the role
    holders, the contacts and the endpoints are each read with one statement for the whole
    batch, and the deliveries and digest entries written with one statement each. Planned
    one occurrence at a time, that was seven round trips per event, which made the notifier
    the first thing to fall behind under a steady 200 funding events a second."""

    def __init__(
        self,
        digest_at: time,
        zone: ZoneInfo,
        *,
        window_first_year: int,
        today: Callable[[], date],
        console_url: str = CONSOLE.default_url,
        links: PreferenceLinks | None = None,
    ) -> None:
        self._digest_at, self._zone = digest_at, zone
        self._window_first_year, self._today = window_first_year, today
        self._console_url = console_url  # where an alert links to the objective's page
        self._links = links  # signs each person's link to their preferences page; None: no key

    def _linked(self, people: list[Recipient]) -> list[Recipient]:
        """Each person with the link to their preferences page, for the footer of their
        e-mails, dated today (UTC, the day the partners service counts a link's age in)."""
        if self._links is None:
            return people
        today = datetime.now(UTC).date()
        return [replace(p, preferences_url=self._links.preferences_page(p.contact_id, today)) for p in people]

    async def _first_year(self, conn: asyncpg.Connection) -> tuple[int | None, int]:
        """The last year a review closed, and the first year that may alert."""
        closed = await budget_window.last_closed_year(conn)
        return closed, first_alerting_year(self._window_first_year, closed)

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
                    conn,
                    [(c.objective_id, c.fiscal_year, c.committed_cents, c.committed_by_level) for _, c in changes],
                ),
                strict=True,
            )
        )
        known_closed, first_year = await self._first_year(conn)
        closed = known_closed
        states: list[tuple[str, int, str, YearState, datetime]] = []
        found: list[tuple[Occurrence, Received]] = []
        for event in events:
            payload = event.payload
            if isinstance(payload, ObjectiveDefined):
                await project_objective_defined(conn, payload)
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
        if closed is not None and closed != known_closed:
            await budget_window.closed(conn, closed)
        await objectives_seen.record_states(conn, states)
        told = await situate(conn, [o for o, _ in found], self._console_url) if found else []
        plans = await self.plan_all(conn, [(o, e.envelope) for o, (_, e) in zip(told, found, strict=True)])
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
        people = self._linked(await directory.contacts_of_partners(conn, partners)) if partners else []
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
        summaries = [
            planned(o, m, to, plan, new_deliveries, new_digest)
            for (o, _), m, to, plan in zip(occurrences, matched, reached, plans, strict=True)
        ]
        await keep_unaddressed(
            conn,
            [
                _unaddressed(summary, occurrence, envelope)
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
        budget window that are not funded (nothing if they all are, or none is known yet).
        Its cause is the assignment event, so replaying it plans the same deliveries."""
        _, first_year = await self._first_year(conn)
        found: list[tuple[CurrentState, Envelope, str]] = []
        for event in assignments:
            assigned = event.payload
            assert isinstance(assigned, ObjectiveLeadAssigned)
            title, years = await objectives_seen.states_of(conn, assigned.objective_id)
            state = current_state(assigned.objective_id, title or assigned.objective_id, years, first_year)
            if state is not None:
                found.append((state, event.envelope, assigned.partner_id))
        if not found:
            return []
        told = await situate(conn, [state for state, _, _ in found], self._console_url)
        found = [
            (state, envelope, partner)
            for state, (_, envelope, partner) in zip(told, found, strict=True)
            if isinstance(state, CurrentState)
        ]
        partners = sorted({partner for _, _, partner in found})
        people = self._linked(await directory.contacts_of_partners(conn, partners))
        endpoints = await webhooks.active_of_partners(conn, partners)
        plans = [
            plan_alerts(
                state,
                {partner: ()},
                [p for p in people if p.partner_id == partner],
                [e for e in endpoints if e.partner_id == partner],
                Cause(envelope.event_id, envelope.type, envelope.correlation_id, envelope.occurred_at),
                digest_due_at=next_digest_at(envelope.occurred_at, self._digest_at, self._zone),
            )
            for state, envelope, partner in found
        ]
        new_deliveries = await deliveries.add(conn, [d for p in plans for d in p.deliveries])
        new_digest = await digests.add(conn, [d for p in plans for d in p.digest])
        summaries = []
        for (state, envelope, partner), plan in zip(found, plans, strict=True):
            summary = planned(state, [], {partner: ()}, plan, new_deliveries, new_digest)
            summaries.append(summary)
            if summary.recipients == 0:
                # No rule matched, so `addressed` holds; still, nobody heard: kept as well.
                await keep_unaddressed(conn, [_unaddressed(summary, state, envelope)])
            log.info(
                "current state planned for a new lead",
                objective_id=state.objective_id,
                partner=partner,
                years=[y.fiscal_year for y in state.years],
                event_id=str(envelope.event_id),
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


def _unaddressed(summary: Planned, occurrence: Occurrence, envelope: Envelope) -> Unaddressed:
    return Unaddressed(
        envelope.event_id,
        summary.trigger,
        summary.objective_id,
        None if isinstance(occurrence, CurrentState) else occurrence.fiscal_year,
        summary.rules,
        summary.partners,
        "no partner holds the rules' audiences"
        if not summary.partners
        else "their contacts and endpoints want none of it",
        envelope.occurred_at,
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
