"""The plumbing's own metrics, which every service has: events consumed (through the
shared consumer), events published by the outbox relay, consumer lag and dead letters."""

from collections import Counter as Tally
from collections.abc import Sequence

import asyncpg
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import LogicSubscriber
from prometheus_client import CollectorRegistry, Counter, Gauge

from regia_shared.messaging import consumer
from regia_shared.messaging.outbox import OutboxRow
from regia_shared.messaging.security import PLAINTEXT, KafkaSecurity
from regia_shared.observability import metrics_consumer
from regia_shared.observability.metrics_lag import ConsumerLag, Subscription
from regia_shared.observability.metrics_refresh import replace_children


def subscriptions(broker: KafkaBroker) -> list[Subscription]:
    """(consumer group, topic) of every subscriber.
    A Kafka broker's subscribers are all LogicSubscribers (faststream types the list with
    their generic base, which has neither a group id nor topics)."""
    return sorted(
        {
            (sub.group_id, topic)
            for sub in broker.subscribers
            if isinstance(sub, LogicSubscriber) and sub.group_id
            for topic in sub.topic_names
        }
    )


class PlumbingMetrics:
    def __init__(
        self,
        registry: CollectorRegistry,
        service: str,
        broker: KafkaBroker,
        bootstrap: str,
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self._service, self._broker = service, broker
        metrics_consumer.register(broker, metrics_consumer.ConsumerMetrics(registry, service))
        self._published = Counter(
            "regia_events_published_total",
            "Events the outbox relay published, by topic and type",
            ["service", "topic", "type"],
            registry=registry,
        )
        self._dead_letters = Gauge(
            "regia_dead_letters",
            "Poison records set aside and not replayed, by consumer",
            ["service", "consumer"],
            registry=registry,
        )
        self.lag = ConsumerLag(registry, service, bootstrap, lambda: subscriptions(broker), security)

    def published(self, rows: Sequence[OutboxRow]) -> None:
        # Counted by (topic, type) first: a labelled child looked up per row cost the relay
        # as much as signing the row.
        for (topic, type_), n in Tally((row.topic, row.type) for row in rows).items():
            self._published.labels(self._service, topic, metrics_consumer.type_label(type_)).inc(n)

    async def refresh_dead_letters(self, conn: asyncpg.Connection) -> None:
        rows = await conn.fetch(
            "SELECT consumer, count(*) AS n FROM dead_letters WHERE replayed_at IS NULL GROUP BY consumer"
        )
        # Every consumer of the service shows, at 0 when it has none: an alert on "> 0"
        # then has a series to watch from the start. A stranger's row (a consumer since
        # removed) still shows, and the set stays bounded by the consumers ever deployed.
        counts = {(self._service, name): 0.0 for name in consumer.consumer_names(self._broker)}
        counts.update({(self._service, r["consumer"]): float(r["n"]) for r in rows})
        replace_children(self._dead_letters, counts)
