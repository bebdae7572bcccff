"""Kafka plumbing: the broker every service builds, topic creation, and the outbox relay's
producer. faststream's prometheus middleware counts every message its broker handles; the
relay counts what it publishes itself (regia_events_published_total)."""

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from .logs import get_logger
from .outbox import OutboxRow
from .settings import ServiceSettings

log = get_logger(__name__)


def make_broker(settings: ServiceSettings, service: str, registry: CollectorRegistry) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"regia-{service}",
        enable_idempotence=settings.kafka_idempotence,
        acks="all",
        middlewares=[KafkaPrometheusMiddleware(registry=registry, app_name=f"regia_{service}")],
        logger=None,
    )


async def ensure_topics(bootstrap: str, topics: Sequence[str], partitions: int) -> None:
    """Create the topics that do not exist yet. Idempotent, safe to race."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="regia-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        for topic in missing:
            try:
                await admin.create_topics([NewTopic(topic, partitions, 1)])
                log.info("topic created", topic=topic, partitions=partitions)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


class OutboxProducer:
    """The outbox relay's own aiokafka producer.

    The relay publishes rows it has already serialised, so faststream's per-message
    publishing path (a command object, a codec and a middleware scope for each message)
    would only add cost: sent through it, publishing took as long as everything else the
    objectives service does with an event. Here a relay batch is every `send` started,
    then all awaited: one round trip per partition leader. aiokafka keeps one request in
    flight per partition, which preserves each partition's order. The same headers as
    before: content-type, correlation_id (faststream's name, read by its consumers) and
    the event type."""

    def __init__(self, bootstrap_servers: str, *, idempotence: bool, client_id: str = "regia-outbox") -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers, client_id=client_id, acks="all",
            enable_idempotence=idempotence, linger_ms=2, max_batch_size=512 * 1024)

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, rows: Sequence[OutboxRow]) -> None:
        futures = [
            await self._producer.send(
                row.topic, row.body.encode(), key=row.key.encode(),
                headers=[("content-type", b"application/json"),
                         ("correlation_id", row.correlation_id.encode()), ("type", row.type.encode())])
            for row in rows
        ]
        await asyncio.gather(*futures)
