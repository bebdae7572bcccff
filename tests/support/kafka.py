"""Talking to the real broker from a test: publish envelopes, read a topic back.

A test that publishes on a service's topic stands in for that service: what it sends is
signed with the owner's test key (tests/support/services.EVENT_KEYS), as the service's
outbox relay would, unless it asks otherwise (`signed_as`: another service's key, or None
for no signature, to play a forger)."""

import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.routing import ON_COVERAGE_TOPIC
from regia_shared.messaging import signing
from regia_shared.messaging.kafka import ensure_topics

from .services import EVENT_KEYS

OWNER = "owner"  # sign as the topic's owner (the default)


def signature(topic: str, value: bytes, key: bytes | None, signed_as: str | None = OWNER) -> list[tuple[str, bytes]]:
    """The signature header a record gets: the owner's, `signed_as`'s, or none."""
    service = signing.owner(topic) if signed_as == OWNER else signed_as
    if service is None:
        return []
    return [(signing.HEADER, EVENT_KEYS.sign(service, topic, key, value).encode())]


async def publish(
    bootstrap: str,
    topic: str,
    envelopes: Sequence[Envelope] | Sequence[bytes],
    key: bytes | None = None,
    *,
    signed_as: str | None = OWNER,
) -> None:
    await ensure_topics(bootstrap, [topic], 3)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        futures = []
        for item in envelopes:
            value, k = (item.to_json(), item.key.encode()) if isinstance(item, Envelope) else (item, key)
            futures.append(await producer.send(topic, value, key=k, headers=signature(topic, value, k, signed_as)))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


COVERAGE_TYPES = frozenset(m.event_type() for m in ON_COVERAGE_TOPIC)


async def publish_objectives(bootstrap: str, envelopes: Sequence[Envelope]) -> None:
    """Publish as the objectives service does: the coverage projection's events on
    regia.objectives.coverage.v1, the rest on regia.objectives.v1, each in its order. Two
    topics are read by two consumers, so nothing orders one topic's events against the
    other's: a test that needs a definition applied before a coverage event waits for it."""
    others = [e for e in envelopes if e.type not in COVERAGE_TYPES]
    coverage = [e for e in envelopes if e.type in COVERAGE_TYPES]
    if others:
        await publish(bootstrap, topics.OBJECTIVES, others)
    if coverage:
        await publish(bootstrap, topics.OBJECTIVES_COVERAGE, coverage)


async def read_all(bootstrap: str, topic: str, *, expect: int, timeout: float = 30.0) -> list[Envelope]:
    """Read `topic` from the beginning until `expect` envelopes have arrived (or time out)."""
    records = await read_records(bootstrap, topic, expect=expect, timeout=timeout)
    return [Envelope.model_validate_json(r.value) for r in records]


async def read_records(bootstrap: str, topic: str, *, expect: int, timeout: float = 30.0) -> list[ConsumerRecord]:
    """Read raw records of `topic` from the beginning until `expect` have arrived."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    found: list[ConsumerRecord] = []
    try:
        deadline = time.monotonic() + timeout
        while len(found) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                found.extend(records)
    finally:
        await consumer.stop()
    return found


async def publish_raw(
    bootstrap: str,
    topic: str,
    messages: Sequence[tuple[bytes, list[tuple[str, bytes]]]],
    key: bytes | None = None,
    *,
    signed_as: str | None = OWNER,
) -> None:
    """Publish (value, headers) pairs in order, all with one key (so one partition); on a
    signed topic each gets its signature added unless its headers carry one already."""
    await ensure_topics(bootstrap, [topic], 3)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        for value, headers in messages:
            if not any(name == signing.HEADER for name, _ in headers):
                headers = [*headers, *signature(topic, value, key, signed_as)]
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
