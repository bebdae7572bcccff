"""Fault injection for the fault tests: streams fed at a steady pace, so that a consumer is
busy while it is killed, and a kill that waits for a batch to be in flight.

The progress of a consumer is its inbox (one row per event it applied, written in the
transaction of the effect); a batch is in flight while some backend holds a row lock on
that table (RowExclusiveLock: it has inserted and not yet committed or rolled back).
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.messaging.kafka import ensure_topics

from .infra import Database
from .kafka import signature
from .system import System

LONG = os.environ.get("REGIA_VERIFY_LONG") == "1"  # `regia verify` runs the longer variants


@dataclass(frozen=True)
class Message:
    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def of(topic: str, envelopes: Sequence[Envelope]) -> list[Message]:
    """The envelopes as their topic's owner publishes them: signed with its key."""
    return [
        Message(topic, key, value, tuple(signature(topic, value, key)))
        for e in envelopes
        for key, value in [(e.key.encode(), e.to_json())]
    ]


def interleave(*streams: Sequence[Message]) -> list[Message]:
    """Round-robin merge, keeping each stream's own order (and so each key's order)."""
    out: list[Message] = []
    longest = max((len(s) for s in streams), default=0)
    for i in range(longest):
        out.extend(s[i] for s in streams if i < len(s))
    return out


async def paced(bootstrap: str, messages: Sequence[Message], *, chunk: int = 10, interval_s: float = 0.02) -> None:
    """Publish in order, `chunk` messages every `interval_s`: the consumers get a stream,
    not one batch, so a kill lands with work done and work to do."""
    await ensure_topics(bootstrap, sorted({m.topic for m in messages}), 3)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        for start in range(0, len(messages), chunk):
            futures = [
                await producer.send(m.topic, m.value, key=m.key, headers=list(m.headers))
                for m in messages[start : start + chunk]
            ]
            await asyncio.gather(*futures)
            await asyncio.sleep(interval_s)
    finally:
        await producer.stop()


# Consumers whose record of what they applied is a table of their own, one row per event
# keyed by its id, instead of the inbox (regia_shared.messaging.consumer, `claim`).
OWN_RECORD = {"notifier.funding": "funding_causes"}

# Consumers that keep no record, their effect being idempotent by itself
# (regia_shared.messaging.consumer, `idempotent_effect`): what they took in is read from the
# effect. Objectives holds each line's newest version, and every stream the tests send
# numbers a line's versions from 1 without a gap, so the versions held add up to the events
# taken in, each once: a redelivered, late or superseded version adds nothing.
OBJECTIVES_FUNDING_TAKEN_IN = "SELECT coalesce(sum(line_version), 0) FROM line_allocations"
BY_EFFECT = {"objectives.funding": ("line_allocations", OBJECTIVES_FUNDING_TAKEN_IN)}


def line_versions(events: Sequence[Envelope]) -> int:
    """What objectives' `BY_EFFECT` count reads once it has taken in `events`: each line's
    newest version, added up (a line first seen at version 2 counts 2)."""
    newest: dict[str, int] = {}
    for e in events:
        line, version = e.payload["line_id"], e.payload["line_version"]
        newest[line] = max(newest.get(line, 0), version)
    return sum(newest.values())


def record_table(consumer: str) -> str:
    """The table a consumer records each applied event in: the inbox, its own, or (for a
    consumer with no record) the table its effect writes."""
    if consumer in BY_EFFECT:
        return BY_EFFECT[consumer][0]
    return OWN_RECORD.get(consumer, "inbox")


def applied_query(consumer: str, envelope: Envelope) -> tuple[str, list[object]]:
    """A statement and its arguments that count 1 once `consumer` has applied the event
    (0 before), read from its record: the inbox's row, its own row by event id, or for
    objectives' funding lines the history row of the event's line version."""
    if consumer == "objectives.funding":
        return (
            "SELECT count(*) FROM allocation_changes WHERE line_id = $1 AND line_version = $2",
            [envelope.payload["line_id"], envelope.payload["line_version"]],
        )
    if consumer in OWN_RECORD:
        return f"SELECT count(*) FROM {OWN_RECORD[consumer]} WHERE event_id = $1", [envelope.event_id]
    return "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = $2", [consumer, envelope.event_id]


def inbox_count(database: Database, schema: str, consumer: str) -> Callable[[], Awaitable[int]]:
    """How many events `consumer` has applied, read from its record of them (see
    `BY_EFFECT` for a consumer that keeps none)."""

    async def count() -> int:
        if consumer in BY_EFFECT:
            return int(await database.fetchval(schema, BY_EFFECT[consumer][1]))  # type: ignore[arg-type]
        if consumer in OWN_RECORD:
            return await database.fetchval(schema, f"SELECT count(*) FROM {OWN_RECORD[consumer]}")  # type: ignore[return-value]
        return await database.fetchval(  # type: ignore[return-value]
            schema, "SELECT count(*) FROM inbox WHERE consumer = $1", consumer
        )

    return count


@dataclass(frozen=True)
class Kill:
    progress: int  # applied when the signal went
    total: int
    in_flight: bool  # a transaction had written and not committed when the signal went
    seconds: float


async def kill_mid_batch(
    system: System,
    service: str,
    database: Database,
    *,
    schema: str,
    progress: Callable[[], Awaitable[int]],
    total: int,
    table: str = "inbox",
    low: float = 0.2,
    high: float = 0.8,
    timeout: float = 60.0,
) -> Kill:
    """SIGKILL `service` once `progress` is between low and high of `total`, at a moment a
    transaction of the service has written to `table` and not yet ended (if none is seen
    before progress passes the middle of the window, kill anyway: still mid-stream)."""
    started = time.monotonic()
    conn = await database.connect(schema)
    try:
        deadline = started + timeout
        while (done := await progress()) < low * total:
            assert time.monotonic() < deadline, f"{service}: progress stuck at {done}/{total}"
            await asyncio.sleep(0.01)
        assert done <= high * total, f"{service} went from below {low:.0%} to {done}/{total} at once"
        in_flight = False
        give_up = (low + high) / 2 * total
        while True:
            in_flight = bool(
                await conn.fetchval(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND n.nspname = $1 AND c.relname = $2 AND l.mode = 'RowExclusiveLock'"
                    " AND l.pid <> pg_backend_pid()",
                    schema,
                    table,
                )
            )
            if in_flight:
                break
            if await progress() >= give_up or time.monotonic() > deadline:
                break
        system.kill(service)
        done = await progress()  # what had committed when it died
    finally:
        await conn.close()
    assert low * total <= done < total, f"{service} killed at {done}/{total}: not mid-stream"
    return Kill(done, total, in_flight, time.monotonic() - started)


async def settle(
    probe: Callable[[], Awaitable[int]], expected: int, *, timeout: float = 90.0, what: str = "all events applied"
) -> None:
    deadline = time.monotonic() + timeout
    value = -1
    while time.monotonic() < deadline:
        value = await probe()
        if value == expected:
            return
        assert value < expected, f"{what}: {value} > {expected}"
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: {value} of {expected} within {timeout:.0f}s")


async def topic_size(bootstrap: str, topic: str) -> int:
    """How many records `topic` holds (the sum of its partitions' end offsets)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - a fresh client knows no topics
            partitions = consumer.partitions_for_topic(topic) or set()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(ends.values())
    finally:
        await consumer.stop()


async def settle_at_least(
    probe: Callable[[], Awaitable[int]], expected: int, *, timeout: float = 60.0, what: str = "progress"
) -> int:
    deadline = time.monotonic() + timeout
    while (value := await probe()) < expected:
        assert time.monotonic() < deadline, f"{what}: {value} of {expected} within {timeout:.0f}s"
        await asyncio.sleep(0.02)
    return value
