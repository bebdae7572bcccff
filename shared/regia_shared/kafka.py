"""Kafka plumbing: the broker every service builds, topic creation, and the outbox relay's
publisher. faststream's prometheus middleware counts every message in and out."""

from collections.abc import Sequence

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


def outbox_publisher(broker: KafkaBroker):
    """Publish a relay batch: all sends are started, then all are awaited, so a batch costs
    one round trip; aiokafka keeps one request in flight per broker connection, which
    preserves the order of each partition."""

    async def publish(rows: Sequence[OutboxRow]) -> None:
        futures = [
            await broker.publish(
                row.body.encode(),
                topic=row.topic,
                key=row.key.encode(),
                headers={"type": row.type, "content-type": "application/json"},
                correlation_id=row.correlation_id,
                no_confirm=True,
            )
            for row in rows
        ]
        for future in futures:
            await future

    return publish
