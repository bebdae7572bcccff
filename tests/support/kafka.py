"""Talking to the real broker from a test: publish envelopes, read a topic back."""

import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.messaging.kafka import ensure_topics


async def publish(
    bootstrap: str, topic: str, envelopes: Sequence[Envelope] | Sequence[bytes], key: bytes | None = None
) -> None:
    await ensure_topics(bootstrap, [topic], 3)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        futures = []
        for item in envelopes:
            if isinstance(item, Envelope):
                futures.append(await producer.send(topic, item.to_json(), key=item.key.encode()))
            else:
                futures.append(await producer.send(topic, item, key=key))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


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
    bootstrap: str, topic: str, messages: Sequence[tuple[bytes, list[tuple[str, bytes]]]], key: bytes | None = None
) -> None:
    """Publish (value, headers) pairs in order, all with one key (so one partition)."""
    await ensure_topics(bootstrap, [topic], 3)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        for value, headers in messages:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
