"""Kafka subscribers of the partners service: the objectives and plan nodes that exist, and
the leads and roles a plan file declares.

A lead or role may only be put on an objective or plan node this service knows, so it keeps
them (known_objectives) from ObjectiveDefined, as the consumer partners.objectives (an inbox
of its own): a release that brought it started it from the earliest offset the topic still
held, so a service upgraded to it learned every objective still there (docs/operations.md
says what to do for older ones). No event retires a node yet: a row stays once written.
Both consumers ride the service's one consumer group, `partners` (consumer.subscribe_group).

Partner facts are born here, with one exception: an imported plan file may give its nodes
leads and roles, and the objectives service, which imports it in one transaction, states
them in PlanPartnersDeclared (regia.objectives.v1). They are applied here, as the lead and
role endpoints apply them, so this service stays the one that owns and announces them."""

from collections.abc import Sequence

import asyncpg

from regia_shared.contracts import topics
from regia_shared.contracts.events.objectives import ObjectiveDefined
from regia_shared.contracts.events.plans import PlanPartnersDeclared
from regia_shared.messaging import consumer
from regia_shared.messaging.consumer import Received
from regia_shared.runtime import ServiceRuntime

from ..adapters import known_objectives
from ..service_layer.objective_roles import apply_declared


async def apply_definitions(conn: asyncpg.Connection, events: Sequence[Received]) -> None:
    for event in events:
        defined = event.payload
        assert isinstance(defined, ObjectiveDefined)
        await known_objectives.record(conn, defined.objective_id, defined.kind, defined.plan_id)


async def apply_plan_declarations(conn: asyncpg.Connection, events: Sequence[Received]) -> None:
    for event in events:
        declared = event.payload
        assert isinstance(declared, PlanPartnersDeclared)
        await apply_declared(conn, declared, event.envelope.correlation_id)


def register(runtime: ServiceRuntime) -> None:
    consumer.subscribe_group(
        runtime.broker,
        lambda: runtime.pool,
        group="partners",
        subscriptions=[
            consumer.consumes(
                topics.OBJECTIVES, "partners.objectives", [ObjectiveDefined.event_type()], apply_definitions
            ),
            consumer.consumes(
                topics.OBJECTIVES, "partners.plans", [PlanPartnersDeclared.event_type()], apply_plan_declarations
            ),
        ],
        polling=consumer.Polling.of(runtime.settings),
    )
