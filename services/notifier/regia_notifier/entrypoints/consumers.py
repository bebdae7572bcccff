"""Kafka subscribers of the notifier: the partner directory, and objectives' status
changes turned into deliveries (which the dispatcher then sends)."""

from collections.abc import Sequence

import asyncpg

from regia_shared import consumer, topics
from regia_shared.consumer import Received
from regia_shared.events.objectives import ObjectiveStatusChanged
from regia_shared.events.partners import ContactAdded, ObjectiveLeadAssigned, PartnerRegistered
from regia_shared.logs import get_logger
from regia_shared.runtime import ServiceRuntime

from .. import handlers
from ..handlers import Planned
from ..metrics import NotifierMetrics

log = get_logger(__name__)


async def apply_status_changes(conn: asyncpg.Connection, events: Sequence[Received]) -> list[Planned]:
    plans = []
    for event in events:
        planned = await handlers.plan_alerts(conn, event)
        plans.append(planned)
        objective_id = getattr(event.payload, "objective_id", None)
        if not planned.addressed:
            log.warning("status change with nobody to tell", objective_id=objective_id,
                        event_id=str(event.envelope.event_id),
                        reason="no known lead" if planned.lead is None else "lead has no contacts nor webhooks",
                        lead=planned.lead)
        else:
            log.info("alerts planned", objective_id=objective_id, lead=planned.lead,
                     deliveries=planned.new, event_id=str(event.envelope.event_id))
    return plans


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


def register(runtime: ServiceRuntime, metrics: NotifierMetrics) -> None:
    timeout = runtime.settings.kafka_session_timeout_ms
    consumer.subscribe(
        runtime.broker, lambda: runtime.pool, topic=topics.PARTNERS, consumer="notifier.partners",
        wanted=[PartnerRegistered.event_type(), ContactAdded.event_type(),
                ObjectiveLeadAssigned.event_type()],
        apply=handlers.project_partner_events, session_timeout_ms=timeout,
    )
    consumer.subscribe(
        runtime.broker, lambda: runtime.pool, topic=topics.OBJECTIVES, consumer="notifier.objectives",
        wanted=[ObjectiveStatusChanged.event_type()], apply=apply_status_changes,
        on_committed=count_plans(metrics),
        session_timeout_ms=timeout,
    )
