"""A consumer group's batch reaches its handler, and is acknowledged, on the event loop.

fast_depends resolves a context parameter (`message: KafkaMessage`, `Context("message")`)
with a plain function, which it runs in a worker thread: a thread hand-off on every batch,
2-3 % of each service's event loop at 200 events/s and latency on every hop
(docs/performance.md). So the handlers take faststream's message as their body
(`consumer.batch_as_body`), and this test fails on any worker thread a batch costs."""

from typing import Any

import anyio.to_thread
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from regia_shared.messaging import consumer
from regia_shared.messaging.consumer import consumes, offset_commits_of, subscribe_group


async def test_a_batch_is_handled_and_acknowledged_without_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_thread(*_: object, **__: object) -> Any:
        raise AssertionError("a batch was handed to a worker thread")

    monkeypatch.setattr(anyio.to_thread, "run_sync", no_thread)
    broker = KafkaBroker("127.0.0.1:1")

    async def apply(*_: object) -> None:
        raise AssertionError("nothing here is wanted")

    pool: Any = None  # never asked for: a batch of unwanted types opens no transaction
    subscribe_group(
        broker,
        lambda: pool,
        group="g",
        subscriptions=[consumes("t", "c", ["Wanted"], apply)],
        polling=consumer.Polling(commit_interval_ms=0),
    )
    async with TestKafkaBroker(broker) as test:
        await test.publish_batch(b"{}", b"{}", topic="t", headers={"type": "NotWanted"})
    assert offset_commits_of(broker, "g").commits == 1  # acknowledged: committed at once (interval 0)
