"""Kafka subscribers of the notifier: the partner directory, what objectives are, and the
events its rules look at (objectives' status and coverage changes and closed reviews,
revoked funding lines), turned into deliveries that the dispatcher then sends."""

from collections.abc import Sequence

import asyncpg

from regia_shared import consumer, topics
from regia_shared.consumer import Received
from regia_shared.events.funding import FundingRevoked
from regia_shared.events.objectives import ObjectiveCoverageChanged, ObjectiveDefined, ObjectiveStatusChanged
from regia_shared.events.plans import AnnualReviewClosed
from regia_shared.logs import get_logger
from regia_shared.runtime import ServiceRuntime

from ..adapters import objectives_seen
from ..adapters.metrics import NotifierMetrics
from ..domain.occurrences import Occurrence
from ..service_layer.alert_planning import AlertPlanner, Planned
from ..service_layer.occurrence_lookup import occurrence_of
from ..service_layer.projection import PARTNER_EVENTS, project_objective_defined, project_partner_events

log = get_logger(__name__)

def alerting(planner: AlertPlanner):  # type: ignore[no-untyped-def]
    async def apply(conn: asyncpg.Connection, events: Sequence[Received]) -> list[Planned]:
        # Every coverage change is recorded, drop or not (the next is measured against it),
        # for the whole batch at once.
        changes = [e for e in events if isinstance(e.payload, ObjectiveCoverageChanged)]
        before = dict(zip(map(id, changes), await objectives_seen.swap_committed(conn, [
            (e.payload.objective_id, e.payload.fiscal_year, e.payload.committed_cents) for e in changes  # type: ignore[attr-defined]
        ]), strict=True))
        found: list[tuple[Occurrence, Received]] = []
        for event in events:
            if isinstance(event.payload, ObjectiveDefined):
                await project_objective_defined(conn, event.payload)
                continue
            occurrence = await occurrence_of(conn, event.payload, before.get(id(event)))
            if occurrence is not None:
                found.append((occurrence, event))
        plans = await planner.plan_all(conn, [(o, e.envelope) for o, e in found])
        for planned, (_, event) in zip(plans, found, strict=True):
            _log(planned, event)
        return plans

    return apply


def _log(planned: Planned, event: Received) -> None:
    context = {"trigger": planned.trigger, "objective_id": planned.objective_id,
               "event_id": str(event.envelope.event_id), "rules": list(planned.rules)}
    if not planned.addressed:
        log.warning("alert with nobody to tell", **context, partners=list(planned.partners),
                    reason="no partner holds the rules' audiences" if not planned.partners
                    else "their contacts and endpoints want none of it")
    elif planned.rules:
        log.info("alerts planned", **context, partners=list(planned.partners), new=planned.new_by_channel)


def count_plans(metrics: NotifierMetrics):  # type: ignore[no-untyped-def]
    # Runs after the batch's transaction committed: a batch rolled back and redelivered
    # is counted once, when it finally commits.
    def count(_: Sequence[Received], plans: list[Planned]) -> None:
        for planned in plans:
            if planned.addressed:
                for channel, new in planned.new_by_channel.items():
                    metrics.planned.labels(channel).inc(new)
            else:
                metrics.unaddressed.inc()

    return count


def register(runtime: ServiceRuntime, metrics: NotifierMetrics, planner: AlertPlanner) -> None:
    polling = consumer.Polling.of(runtime.settings)
    consumer.subscribe(
        runtime.broker, lambda: runtime.pool, topic=topics.PARTNERS, consumer="notifier.partners",
        wanted=[e.event_type() for e in PARTNER_EVENTS],
        apply=project_partner_events, polling=polling,
    )
    consumer.subscribe(
        runtime.broker, lambda: runtime.pool, topic=topics.OBJECTIVES, consumer="notifier.objectives",
        wanted=[ObjectiveDefined.event_type(), ObjectiveStatusChanged.event_type(),
                ObjectiveCoverageChanged.event_type(), AnnualReviewClosed.event_type()],
        apply=alerting(planner), on_committed=count_plans(metrics), polling=polling,
    )
    consumer.subscribe(
        runtime.broker, lambda: runtime.pool, topic=topics.FUNDING, consumer="notifier.funding",
        wanted=[FundingRevoked.event_type()],
        apply=alerting(planner), on_committed=count_plans(metrics), polling=polling,
    )
