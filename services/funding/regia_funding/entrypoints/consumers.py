"""Kafka subscribers of the funding service: the institutions it may take money from
(partner events) and the objectives money may go to (objective events)."""

from collections.abc import Sequence

import asyncpg

from regia_shared import consumer, topics
from regia_shared.consumer import Received
from regia_shared.events.objectives import ObjectiveDefined
from regia_shared.events.partners import PartnerRegistered
from regia_shared.runtime import ServiceRuntime

from ..adapters import institutions, references


async def apply_partner_events(conn: asyncpg.Connection, events: Sequence[Received]) -> None:
    for event in events:
        partner = event.payload
        assert isinstance(partner, PartnerRegistered)
        if partner.level is not None:  # only partners that fund at a level are funders
            await institutions.upsert(conn, partner.partner_id, partner.name, partner.level)


async def apply_objective_events(conn: asyncpg.Connection, events: Sequence[Received]) -> None:
    for event in events:
        objective = event.payload
        assert isinstance(objective, ObjectiveDefined)
        await references.remember_objective(conn, objective.objective_id, objective.title)


def register(runtime: ServiceRuntime) -> None:
    timeout = runtime.settings.kafka_session_timeout_ms
    consumer.subscribe(
        runtime.broker, lambda: runtime.pool, topic=topics.PARTNERS, consumer="funding.partners",
        wanted=[PartnerRegistered.event_type()], apply=apply_partner_events, session_timeout_ms=timeout)
    consumer.subscribe(
        runtime.broker, lambda: runtime.pool, topic=topics.OBJECTIVES, consumer="funding.objectives",
        wanted=[ObjectiveDefined.event_type()], apply=apply_objective_events, session_timeout_ms=timeout)
