"""`OffsetCommits`: a group's offsets committed at most every interval while batches keep
coming, and at the first wait that finds nothing once the interval is up; a failed batch
rewound and never committed past; a failed commit kept for the next try."""

from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from regia_shared.messaging import offset_commits
from regia_shared.messaging.consumer import Polling, consumes, offset_commits_of, subscribe_group, without_idle_sleep
from regia_shared.messaging.offset_commits import OffsetCommits


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(offset_commits.time, "monotonic", c)
    return c


class Message:
    """faststream's KafkaAckableMessage as the handler sees it: ack commits, nack rewinds."""

    def __init__(self, failing: Exception | None = None) -> None:
        self.acks = 0
        self.nacks = 0
        self.failing = failing

    async def ack(self) -> None:
        if self.failing is not None:
            raise self.failing
        self.acks += 1

    async def nack(self) -> None:
        self.nacks += 1


class Consumer:
    def __init__(self, *looks: dict[Any, list[ConsumerRecord]]) -> None:
        self.looks = list(looks)
        self.asked: list[int] = []
        self.commits = 0
        self.seeks: list[tuple[TopicPartition, int]] = []

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[Any, list[ConsumerRecord]]:
        self.asked.append(timeout_ms)
        return self.looks.pop(0)

    async def commit(self) -> None:
        self.commits += 1


def record(offset: int, partition: int = 0) -> ConsumerRecord:
    return ConsumerRecord("t", partition, offset, 0, 0, b"k", b"v", None, 1, 1, [])


async def nothing() -> None:
    return None


async def test_batches_within_the_interval_are_committed_together(clock: Clock) -> None:
    commits = OffsetCommits("g", 0.25)
    first, second, third = Message(), Message(), Message()
    await commits.applied(first)
    clock.now += 0.125
    await commits.applied(second)
    assert (first.acks, second.acks, commits.commits) == (0, 0, 0)
    assert commits.pending
    clock.now += 0.125  # the oldest pending batch is now 0.25 s old: this one commits all three
    await commits.applied(third)
    assert (third.acks, commits.commits, commits.pending) == (1, 1, False)


async def test_an_interval_of_zero_commits_after_every_batch(clock: Clock) -> None:
    commits = OffsetCommits("g", 0)
    messages = [Message() for _ in range(3)]
    for m in messages:
        await commits.applied(m)
    assert [m.acks for m in messages] == [1, 1, 1]


async def test_the_wait_for_records_ends_when_pending_offsets_are_due(clock: Clock) -> None:
    commits = OffsetCommits("g", 0.25)
    assert commits.wait_ms(500) == 500  # nothing pending: the subscriber's own wait
    await commits.applied(Message())
    clock.now += 0.0625
    assert commits.wait_ms(500) == 188
    assert commits.wait_ms(100) == 100
    clock.now += 0.5
    assert commits.wait_ms(500) == 0


async def test_an_empty_wait_commits_what_is_due_and_only_that(clock: Clock) -> None:
    commits = OffsetCommits("g", 0.25)
    consumer = Consumer()
    await commits.idle(consumer)  # nothing pending
    await commits.applied(Message())
    clock.now += 0.125
    await commits.idle(consumer)  # pending, not due
    assert consumer.commits == 0
    clock.now += 0.125
    await commits.idle(consumer)
    assert (consumer.commits, commits.commits, commits.pending) == (1, 1, False)
    await commits.idle(consumer)
    assert consumer.commits == 1


async def test_a_failed_commit_stays_pending_for_the_next_try(clock: Clock) -> None:
    commits = OffsetCommits("g", 0)
    await commits.applied(Message(failing=CommitFailedError("rebalancing")))
    assert commits.pending and commits.commits == 0
    await commits.applied(Message())
    assert not commits.pending and commits.commits == 1


async def test_a_failing_batch_is_rewound_and_not_committed(clock: Clock) -> None:
    commits = OffsetCommits("g", 0)
    message = Message()

    async def failing() -> None:
        raise ValueError("cannot apply")

    with pytest.raises(ValueError, match="cannot apply"):
        await commits.handled(message, failing())
    assert (message.nacks, message.acks, commits.pending) == (1, 0, False)

    async def applying() -> None:
        return None

    await commits.handled(message, applying())
    assert (message.nacks, message.acks) == (1, 1)


async def test_the_subscriber_commits_due_offsets_when_a_wait_finds_nothing(clock: Clock) -> None:
    commits = OffsetCommits("g", 0.25)
    broker = KafkaBroker("127.0.0.1:1")
    subscriber = without_idle_sleep(
        broker.subscriber("t", group_id="g", batch=True, max_records=7, batch_timeout_ms=500), commits
    )
    looks = Consumer({"p0": [record(1)]}, {}, {})
    assert len(await subscriber.get_msg(looks)) == 1
    await commits.handled(Message(), nothing())
    clock.now += 0.25
    assert await subscriber.get_msg(looks) == ()
    assert (looks.commits, commits.pending) == (1, False)
    assert await subscriber.get_msg(looks) == ()
    assert looks.asked == [500, 0, 500]  # the wait shortened only while offsets were due
    assert looks.commits == 1


def test_every_group_commits_itself_never_on_aiokafkas_timer() -> None:
    # aiokafka's auto commit would commit a batch's positions while it is being applied.
    broker = KafkaBroker("127.0.0.1:1")

    async def apply(*_: object) -> None:
        return None

    pool: Any = None
    subscribe_group(broker, lambda: pool, group="g", subscriptions=[consumes("t", "c", ["X"], apply)])
    [subscriber] = broker.subscribers
    assert subscriber.ack_policy is AckPolicy.MANUAL
    assert subscriber._connection_args["enable_auto_commit"] is False
    assert offset_commits_of(broker, "g").interval_s == Polling().commit_interval_ms / 1000 == 0.2


async def test_a_stopping_service_commits_what_is_pending_unless_a_batch_is_being_applied(clock: Clock) -> None:
    commits = OffsetCommits("g", 60)
    consumer = Consumer()
    await commits.flush()  # nothing seen, nothing pending
    commits.handing_out(consumer, [record(1)])
    await commits.flush()  # the batch is being applied: its positions are past it
    assert consumer.commits == 0
    await commits.handled(Message(), nothing())
    assert commits.pending
    await commits.flush()
    assert (consumer.commits, commits.pending) == (1, False)


async def test_a_batch_that_never_reached_the_handler_is_read_again(clock: Clock) -> None:
    commits = OffsetCommits("g", 0.25)
    broker = KafkaBroker("127.0.0.1:1")
    subscriber = without_idle_sleep(broker.subscriber("t", group_id="g", batch=True, batch_timeout_ms=500), commits)
    looks = Consumer({"p": [record(7), record(8), record(3, partition=1)]}, {"p": [record(7)]}, {})
    assert len(await subscriber.get_msg(looks)) == 3
    # faststream failed before the handler ran: nothing applied it, nothing rewound it.
    assert len(await subscriber.get_msg(looks)) == 1
    assert looks.seeks == [(TopicPartition("t", 0), 7), (TopicPartition("t", 1), 3)]
    assert commits.unhandled == 1
    await commits.handled(Message(), nothing())  # this time it was applied
    assert await subscriber.get_msg(looks) == ()
    assert len(looks.seeks) == 2


async def test_failed_commits_are_counted_and_logged_once_a_minute(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged: list[tuple[str, dict[str, object]]] = []

    class Log:
        def warning(self, event: str, **kw: object) -> None:
            logged.append((event, kw))

        def info(self, event: str, **kw: object) -> None:
            logged.append((event, kw))

    monkeypatch.setattr(offset_commits, "log", Log())
    outcomes: list[str] = []
    commits = OffsetCommits("g", 0, outcomes.append)
    for _ in range(5):  # a broker refusing every commit, five times within the minute
        await commits.applied(Message(failing=CommitFailedError("refused")))
        clock.now += 1
    clock.now += 60
    await commits.applied(Message(failing=CommitFailedError("refused")))
    await commits.applied(Message())
    assert outcomes == ["failed"] * 6 + ["committed"]
    assert [(e, kw.get("failures_in_a_row", kw.get("failed_before"))) for e, kw in logged] == [
        ("consumer offsets not committed, will try again", 1),
        ("consumer offsets not committed, will try again", 6),
        ("consumer offsets committed again", 6),
    ]
