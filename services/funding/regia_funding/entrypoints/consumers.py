"""Kafka subscribers of the funding service: institutions learned from partner events."""

from collections.abc import Sequence

import asyncpg

from regia_shared import consumer, topics
from regia_shared.consumer import Received
from regia_shared.events.partners import PartnerRegistered
from regia_shared.runtime import ServiceRuntime

from ..adapters import institutions


async def apply_partner_events(conn: asyncpg.Connection, events: Sequence[Received]) -> None:
    for event in events:
        partner = event.payload
        assert isinstance(partner, PartnerRegistered)
        if partner.level is not None:  # only partners that fund at a level are funders
            await institutions.upsert(conn, partner.partner_id, partner.name, partner.level)


def register(runtime: ServiceRuntime) -> None:
    consumer.subscribe(
        runtime.broker, lambda: runtime.pool, topic=topics.PARTNERS, consumer="funding.partners",
        wanted=[PartnerRegistered.event_type()], apply=apply_partner_events,
        session_timeout_ms=runtime.settings.kafka_session_timeout_ms,
    )
