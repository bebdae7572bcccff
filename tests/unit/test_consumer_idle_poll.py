"""Regia's batch subscribers wait for records only in aiokafka's `getmany`, which returns
the moment records arrive: after an empty look they look again at once, where faststream's
own batch subscriber slept as long again (a record landing then waited for the sleep)."""

import asyncio
from typing import Any

import anyio
import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker

from regia_shared.messaging import consumer
from regia_shared.messaging.consumer import Polling, consumes, subscribe_group, without_idle_sleep


def record(offset: int, partition: int = 0) -> ConsumerRecord:
    return ConsumerRecord("t", partition, offset, 0, 0, b"k", b"v", None, 1, 1, [])


class Consumer:
    """aiokafka's consumer as the loop sees it: each look returns the next batch given."""

    def __init__(self, *looks: dict[Any, list[ConsumerRecord]]) -> None:
        self.looks = list(looks)
        self.asked: list[tuple[int, int]] = []

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[Any, list[ConsumerRecord]]:
        self.asked.append((timeout_ms, max_records))
        return self.looks.pop(0)


async def test_an_empty_look_is_followed_by_the_next_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_sleep(*_: object, **__: object) -> None:
        raise AssertionError("the subscriber slept after an empty look")

    monkeypatch.setattr(anyio, "sleep", no_sleep)
    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    broker = KafkaBroker("127.0.0.1:1")
    subscriber = without_idle_sleep(
        broker.subscriber("t", group_id="g", batch=True, max_records=7, batch_timeout_ms=500)
    )
    looks = Consumer({}, {"p1": [record(4, 1)], "p0": [record(1), record(2)]})
    assert await subscriber.get_msg(looks) == ()
    got = await subscriber.get_msg(looks)
    assert [(r.partition, r.offset) for r in got] == [(1, 4), (0, 1), (0, 2)]
    assert looks.asked == [(500, 7), (500, 7)]  # the poll timeout and batch size it was given


async def test_faststreams_own_batch_subscriber_sleeps_after_an_empty_look(monkeypatch: pytest.MonkeyPatch) -> None:
    # What without_idle_sleep is for: if faststream stops sleeping, it can go.
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(anyio, "sleep", sleep)
    subscriber = KafkaBroker("127.0.0.1:1").subscriber("t", group_id="g", batch=True, batch_timeout_ms=500)
    assert await subscriber.get_msg(Consumer({})) == ()
    assert slept == [0.5]


def test_every_consumer_group_waits_without_sleeping() -> None:
    broker = KafkaBroker("127.0.0.1:1")

    async def apply(*_: object) -> None:
        return None

    pool: Any = None  # never asked for: nothing is consumed here
    subscribe_group(broker, lambda: pool, group="g", subscriptions=[consumes("t", "c", ["X"], apply)])
    [subscriber] = broker.subscribers
    assert subscriber.get_msg.__qualname__.startswith(f"{consumer.without_idle_sleep.__name__}.")
    assert subscriber.batch_timeout_ms == Polling().batch_timeout_ms == 500
