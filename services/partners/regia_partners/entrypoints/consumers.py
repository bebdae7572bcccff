"""Kafka subscriber of the partners service: the leads and roles a plan file declares.

Partner facts are born here, with one exception: an imported plan file may give its nodes
leads and roles, and the objectives service, which imports it in one transaction, states
them in PlanPartnersDeclared (regia.objectives.v1). They are applied here, as the lead and
role endpoints apply them, so this service stays the one that owns and announces them."""

from collections.abc import Sequence

import asyncpg

from regia_shared.contracts import topics
from regia_shared.contracts.events.plans import PlanPartnersDeclared
from regia_shared.messaging import consumer
from regia_shared.messaging.consumer import Received
from regia_shared.runtime import ServiceRuntime

from ..service_layer.objective_roles import apply_declared


async def apply_plan_declarations(conn: asyncpg.Connection, events: Sequence[Received]) -> None:
    for event in events:
        declared = event.payload
        assert isinstance(declared, PlanPartnersDeclared)
        await apply_declared(conn, declared, event.envelope.correlation_id)


def register(runtime: ServiceRuntime) -> None:
    consumer.subscribe(
        runtime.broker,
        lambda: runtime.pool,
        topic=topics.OBJECTIVES,
        consumer="partners.plans",
        wanted=[PlanPartnersDeclared.event_type()],
        apply=apply_plan_declarations,
        polling=consumer.Polling.of(runtime.settings),
    )
