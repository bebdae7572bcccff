"""Kafka subscribers of the objectives service: funding events move coverage."""

from collections.abc import Sequence

import asyncpg
from prometheus_client import Counter

from regia_shared.contracts import topics
from regia_shared.contracts.events.objectives import ObjectiveStatusChanged
from regia_shared.contracts.events.partners import (
    ObjectiveLeadAssigned,
    ObjectiveRoleAssigned,
    ObjectiveRoleWithdrawn,
    PartnerRegistered,
)
from regia_shared.contracts.events.registry import FUNDING_LINE_EVENTS
from regia_shared.messaging import consumer
from regia_shared.messaging.consumer import Received
from regia_shared.runtime import ServiceRuntime

from ..adapters import plan_parts, plans
from ..service_layer.projection import Projected, apply_funding_events

FUNDING_TYPES = [m.event_type() for m in FUNDING_LINE_EVENTS]


PARTNER_TYPES = [
    m.event_type() for m in (ObjectiveLeadAssigned, PartnerRegistered, ObjectiveRoleAssigned, ObjectiveRoleWithdrawn)
]


async def apply_partner_events(conn: asyncpg.Connection, events: Sequence[Received]) -> None:
    """Leads and roles are the partners service's to set; the plan shows them from its
    events, and a plan file may name only the partners it has registered."""
    for event in events:
        payload = event.payload
        if isinstance(payload, ObjectiveLeadAssigned):
            await plans.assign_lead(conn, payload.objective_id, payload.partner_id, event.envelope.occurred_at)
        elif isinstance(payload, PartnerRegistered):
            await plan_parts.register_partners(conn, [payload.partner_id], event.envelope.occurred_at)
        elif isinstance(payload, ObjectiveRoleAssigned | ObjectiveRoleWithdrawn):
            held = isinstance(payload, ObjectiveRoleAssigned)
            await plan_parts.role_changed(conn, payload.objective_id, payload.partner_id, payload.role, held=held)


def register(runtime: ServiceRuntime) -> None:
    applied = Counter(
        "regia_objectives_funding_events_applied_total",
        "Funding events whose line version the coverage projection applied, by type"
        " (a redelivered, late or superseded version changes nothing and is not counted)",
        ["type"],
        registry=runtime.registry,
    )
    status_changes = Counter(
        "regia_objectives_status_changes_total",
        "Objective-year status transitions, by the status entered",
        ["status"],
        registry=runtime.registry,
    )

    def count(_: Sequence[Received], projected: Projected) -> None:
        for kind in projected.applied_types:
            applied.labels(kind).inc()
        for envelope in projected.published:
            if envelope.type == ObjectiveStatusChanged.event_type():
                status_changes.labels(envelope.payload["status"]).inc()

    consumer.subscribe_group(
        runtime.broker,
        lambda: runtime.pool,
        group="objectives",
        subscriptions=[
            consumer.consumes(topics.PARTNERS, "objectives.partners", PARTNER_TYPES, apply_partner_events),
            consumer.consumes(
                topics.FUNDING,
                "objectives.funding",
                FUNDING_TYPES,
                apply_funding_events,
                on_committed=count,
                # A line's version is applied only if newer than the one held, decided
                # against the locked row (adapters.allocations.apply_newer), and each applied
                # version is one history row, unique by (line_id, line_version): a
                # redelivery changes nothing without an inbox row per funding event.
                claim=consumer.idempotent_effect,
            ),
        ],
        polling=consumer.Polling.of(runtime.settings),
    )
