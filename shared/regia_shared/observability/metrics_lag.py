"""Consumer lag, as the broker sees it: for each consumer group and topic, the sum over
partitions of the log end offset less the group's committed offset.

It is measured from outside the consumer, with the admin client and a group-less
consumer, so it also shows a consumer that is stuck or not running at all. The clients
are kept between refreshes and rebuilt after any error.
"""

from collections.abc import Callable, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import CollectorRegistry, Gauge

from regia_shared.messaging.security import PLAINTEXT, KafkaSecurity
from regia_shared.observability.metrics_refresh import replace_children

Subscription = tuple[str, str]  # (consumer group, topic)


def lag(
    partitions: Sequence[int], end: Mapping[int, int], start: Mapping[int, int], committed: Mapping[int, int]
) -> int:
    """Messages not yet consumed. A partition the group never committed on is read from its
    start (the consumers' auto_offset_reset is "earliest"); -1 means no commit either."""
    total = 0
    for p in partitions:
        position = committed.get(p, -1)
        if position < 0:
            position = start.get(p, 0)
        total += max(0, end.get(p, 0) - position)
    return total


class ConsumerLag:
    def __init__(
        self,
        registry: CollectorRegistry,
        service: str,
        bootstrap: str,
        subscriptions: Callable[[], Sequence[Subscription]],
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self._service, self._bootstrap, self._subscriptions = service, bootstrap, subscriptions
        self._security = security
        self._gauge = Gauge(
            "regia_consumer_lag_messages",
            "Messages on the topic the consumer group has not committed yet",
            ["service", "consumer", "topic"],
            registry=registry,
        )
        self._admin: AIOKafkaAdminClient | None = None
        self._reader: AIOKafkaConsumer | None = None

    async def refresh(self) -> None:
        try:
            values = {
                (self._service, group, topic): float(await self._lag(group, topic))
                for group, topic in self._subscriptions()
            }
        except BaseException:
            await self.close()
            raise
        replace_children(self._gauge, values)

    async def _lag(self, group: str, topic: str) -> int:
        admin, reader = await self._clients()
        described = await admin.describe_topics([topic])
        partitions = sorted(p["partition"] for d in described for p in d["partitions"])
        tps = [TopicPartition(topic, p) for p in partitions]
        end = await reader.end_offsets(tps)
        start = await reader.beginning_offsets(tps)
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
        return lag(
            partitions,
            {tp.partition: o for tp, o in end.items()},
            {tp.partition: o for tp, o in start.items()},
            {tp.partition: m.offset for tp, m in committed.items()},
        )

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._reader is None:
            secured = self._security.client_kwargs()
            admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, client_id="regia-metrics", **secured)
            reader = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                client_id="regia-metrics",
                group_id=None,
                enable_auto_commit=False,
                **secured,
            )
            self._admin, self._reader = admin, reader
            await admin.start()
            await reader.start()
        return self._admin, self._reader

    async def close(self) -> None:
        admin, reader, self._admin, self._reader = self._admin, self._reader, None, None
        for client in (admin, reader):
            if client is not None:
                try:
                    await (client.close() if isinstance(client, AIOKafkaAdminClient) else client.stop())
                except Exception:  # closing a broken client: nothing left to save
                    pass
