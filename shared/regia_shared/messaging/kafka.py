"""Kafka plumbing: the broker every service builds, topic creation, and the outbox relay's
producer. faststream's prometheus middleware counts every message its broker handles; the
relay counts what it publishes itself (regia_events_published_total)."""

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from regia_shared.contracts.topics import is_dead_letter
from regia_shared.messaging.outbox import OutboxRow
from regia_shared.messaging.security import PLAINTEXT, KafkaSecurity
from regia_shared.observability.logs import get_logger
from regia_shared.settings import ServiceSettings

log = get_logger(__name__)


def make_broker(
    settings: ServiceSettings, service: str, registry: CollectorRegistry, security: KafkaSecurity | None = None
) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"regia-{service}",
        security=(security or KafkaSecurity.of(settings)).faststream(),
        enable_idempotence=settings.kafka_idempotence,
        acks="all",
        middlewares=[KafkaPrometheusMiddleware(registry=registry, app_name=f"regia_{service}")],
        logger=None,
    )


@dataclass(frozen=True)
class TopicPolicy:
    """How the topics a service creates are laid out on the broker. Topics are created by
    the services (auto-creation is off on the production broker), so this is the one place
    their partitions, copies and retention are decided."""

    partitions: int = 3
    replication_factor: int = 1
    retention_hours: int | None = None  # None: the broker's default
    dead_letter_retention_hours: int | None = None

    @classmethod
    def of(cls, settings: ServiceSettings) -> "TopicPolicy":
        return cls(
            settings.kafka_partitions,
            settings.kafka_replication_factor,
            settings.kafka_retention_hours,
            settings.kafka_dead_letter_retention_hours,
        )

    def configs(self, topic: str) -> dict[str, str]:
        hours = self.dead_letter_retention_hours if is_dead_letter(topic) else self.retention_hours
        configs = {} if hours is None else {"retention.ms": str(hours * 3_600_000)}
        if self.replication_factor > 1:
            # With acks=all, a write then waits for two copies: one broker may be lost
            # (or restarted for an upgrade) without losing an acknowledged event.
            configs["min.insync.replicas"] = "2"
        return configs


async def ensure_topics(
    bootstrap: str, topics: Sequence[str], layout: int | TopicPolicy, security: KafkaSecurity = PLAINTEXT
) -> None:
    """Create the topics that do not exist yet. Idempotent, safe to race. An existing topic
    is left as it is: changing its partitions would move keys between partitions and break
    their order, which is an operator's decision (see the README, "Scaling")."""
    policy = layout if isinstance(layout, TopicPolicy) else TopicPolicy(partitions=layout)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="regia-admin", **security.client_kwargs())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        for topic in missing:
            try:
                await admin.create_topics(
                    [NewTopic(topic, policy.partitions, policy.replication_factor, topic_configs=policy.configs(topic))]
                )
                log.info(
                    "topic created",
                    topic=topic,
                    partitions=policy.partitions,
                    replication_factor=policy.replication_factor,
                    configs=policy.configs(topic),
                )
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
    the event type; and the service's signature over the bytes sent, the topic and the key
    (`sign`, regia_shared.messaging.signing), made here, where the bytes leave, so an outbox
    replay is signed like the first publication."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        idempotence: bool,
        sign: Callable[[str, bytes | None, bytes], list[tuple[str, bytes]]],
        client_id: str = "regia-outbox",
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self._sign = sign
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            **security.client_kwargs(),
            client_id=client_id,
            acks="all",
            enable_idempotence=idempotence,
            linger_ms=2,
            max_batch_size=512 * 1024,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, rows: Sequence[OutboxRow]) -> None:
        futures = []
        for row in rows:
            value, key = row.body.encode(), row.key.encode()
            futures.append(
                await self._producer.send(
                    row.topic,
                    value,
                    key=key,
                    headers=[
                        ("content-type", b"application/json"),
                        ("correlation_id", row.correlation_id.encode()),
                        ("type", row.type.encode()),
                        *self._sign(row.topic, key, value),
                    ],
                )
            )
        await asyncio.gather(*futures)
