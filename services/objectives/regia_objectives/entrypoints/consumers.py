"""Kafka subscribers of the objectives service: funding events move coverage."""

from collections.abc import Sequence

import asyncpg
from prometheus_client import Counter

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import ObjectiveStatusChanged
from regia_shared.contracts.events.partners import ObjectiveLeadAssigned
from regia_shared.contracts.events.registry import FUNDING_LINE_EVENTS
from regia_shared.messaging import consumer
from regia_shared.messaging.consumer import Received
from regia_shared.runtime import ServiceRuntime

from ..adapters import plans
from ..service_layer.projection import apply_funding_events

FUNDING_TYPES = [m.event_type() for m in FUNDING_LINE_EVENTS]


async def apply_lead_assignments(conn: asyncpg.Connection, events: Sequence[Received]) -> None:
    """Leads are the partners service's to set; the plan shows them from its events."""
    for event in events:
        lead = event.payload
        assert isinstance(lead, ObjectiveLeadAssigned)
        await plans.assign_lead(conn, lead.objective_id, lead.partner_id, event.envelope.occurred_at)


def register(runtime: ServiceRuntime) -> None:
    applied = Counter(
        "regia_objectives_funding_events_applied_total",
        "Funding events applied to the coverage projection (first delivery only)",
        ["type"],
        registry=runtime.registry,
    )
    status_changes = Counter(
        "regia_objectives_status_changes_total",
        "Objective-year status transitions, by the status entered",
        ["status"],
        registry=runtime.registry,
    )

    def count(events: Sequence[Received], published: list[Envelope]) -> None:
        for event in events:
            applied.labels(event.envelope.type).inc()
        for envelope in published:
            if envelope.type == ObjectiveStatusChanged.event_type():
                status_changes.labels(envelope.payload["status"]).inc()

    consumer.subscribe(
        runtime.broker,
        lambda: runtime.pool,
        topic=topics.PARTNERS,
        consumer="objectives.partners",
        wanted=[ObjectiveLeadAssigned.event_type()],
        apply=apply_lead_assignments,
        polling=consumer.Polling.of(runtime.settings),
    )
    consumer.subscribe(
        runtime.broker,
        lambda: runtime.pool,
        topic=topics.FUNDING,
        consumer="objectives.funding",
        wanted=FUNDING_TYPES,
        apply=apply_funding_events,
        on_committed=count,
        polling=consumer.Polling.of(runtime.settings),
    )
