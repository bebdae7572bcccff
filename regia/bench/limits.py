"""What the hardware and the infrastructure allow, and what a first implementation gets:
raw aiokafka produce-then-consume on the same broker, raw batched inserts (COPY) into the
same PostgreSQL, and a faststream subscriber handling each message in its own
transaction (the baseline Regia's batch consumer is compared with)."""

import asyncio
import json
import time
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from regia_shared.messaging.kafka import ensure_topics


def command(i: int, objectives: int) -> dict:
    """A funding command as an institution sends it on regia.funding.inbound.v1."""
    return {
        "type": "commitment",
        "line_id": f"BENCH-{i}",
        "objective_id": f"obj-{i % objectives}",
        "instrument_id": "por-fesr-liguria",
        "fiscal_year": 2027,
        "committed_cents": (i * 7919 % 50_000 + 1) * 100,
        "reason": f"DGR {i}/2026: impegno di spesa sul capitolo 4021 del bilancio regionale",
    }


def headers(i: int, key: str, prefix: str) -> list[tuple[str, bytes]]:
    return [
        ("authorization", f"Bearer {key}".encode()),
        ("idempotency-key", f"{prefix}-{i}".encode()),
        ("correlation-id", f"{prefix}-{i}".encode()),
        ("content-type", b"application/json"),
    ]


async def raw_broker(bootstrap: str, n: int, objectives: int, partitions: int) -> dict:
    """Produce n realistic messages in linger batches, then consume them all back."""
    topic = "bench.raw.v1"
    await ensure_topics(bootstrap, [topic], partitions)
    fake_key = "r" * 43  # an API key is 43 characters
    messages = [(json.dumps(command(i, objectives)).encode(), headers(i, fake_key, "raw")) for i in range(n)]
    size = sum(len(v) + sum(len(k) + len(h) for k, h in hs) for v, hs in messages) / max(n, 1)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=False, acks="all", linger_ms=10, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [
            await producer.send(topic, value, key=f"BENCH-{i}".encode(), headers=hs)
            for i, (value, hs) in enumerate(messages)
        ]
        await asyncio.gather(*futures)
        produced = time.perf_counter()
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        max_partition_fetch_bytes=4 << 20,
    )
    await consumer.start()
    got = 0
    try:
        consume_started = time.perf_counter()
        deadline = consume_started + 120
        while got < n and time.perf_counter() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            got += sum(len(records) for records in batch.values())
        consumed = time.perf_counter()
    finally:
        await consumer.stop()
    return {
        "messages": n,
        "consumed": got,
        "message_bytes": round(size),
        "produce_per_s": round(n / (produced - started)),
        "consume_per_s": round(got / (consumed - consume_started)),
        "events_per_s": round(got / (consumed - started)),
        "seconds": round(consumed - started, 3),
    }


async def raw_postgres(dsn: str, n: int) -> dict:
    """COPY n ledger-like rows into a table of the same PostgreSQL."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE SCHEMA IF NOT EXISTS bench;"
            " DROP TABLE IF EXISTS bench.raw_rows;"
            " CREATE TABLE bench.raw_rows (line_id text PRIMARY KEY, objective_id text NOT NULL,"
            " fiscal_year int NOT NULL, committed_cents bigint NOT NULL, reason text,"
            " recorded_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = [(f"RAW-{i}", f"obj-{i % 10_000}", 2027, i * 100, f"DGR {i}/2026: impegno di spesa") for i in range(n)]
        started = time.perf_counter()
        for at in range(0, n, 50_000):
            await conn.copy_records_to_table(
                "raw_rows",
                schema_name="bench",
                records=rows[at : at + 50_000],
                columns=["line_id", "objective_id", "fiscal_year", "committed_cents", "reason"],
            )
        took = time.perf_counter() - started
        await conn.execute("DROP TABLE bench.raw_rows")
    finally:
        await conn.close()
    return {"rows": n, "rows_per_s": round(n / took), "seconds": round(took, 3), "method": "copy_records_to_table"}


async def baseline(bootstrap: str, dsn: str, n: int, objectives: int, partitions: int) -> dict:
    """The subscriber a user writes first: one message, one transaction (an inbox row and
    an upsert of the objective's coverage row), with faststream committing each offset."""
    topic = "bench.baseline.v1"
    await ensure_topics(bootstrap, [topic], partitions)
    setup = await asyncpg.connect(dsn)
    try:
        await setup.execute(
            "CREATE SCHEMA IF NOT EXISTS bench;"
            " DROP TABLE IF EXISTS bench.inbox; DROP TABLE IF EXISTS bench.coverage;"
            " CREATE TABLE bench.inbox (event_id text PRIMARY KEY, processed_at timestamptz NOT NULL DEFAULT now());"
            " CREATE TABLE bench.coverage (objective_id text PRIMARY KEY, committed_cents bigint NOT NULL,"
            " events int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"
        )
    finally:
        await setup.close()
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
    broker = KafkaBroker(bootstrap, logger=None, enable_idempotence=False, acks="all")
    handled = 0
    done = asyncio.Event()

    @broker.subscriber(
        topic,
        group_id="bench.baseline",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=3000,
    )
    async def handle(_: Any, message: KafkaMessage) -> None:
        nonlocal handled
        body = json.loads(message.body)
        async with pool.acquire() as conn, conn.transaction():
            inserted = await conn.execute(
                "INSERT INTO bench.inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING", body["line_id"]
            )
            if inserted.endswith(" 1"):
                await conn.execute(
                    "INSERT INTO bench.coverage (objective_id, committed_cents, events) VALUES ($1, $2, 1)"
                    " ON CONFLICT (objective_id) DO UPDATE SET committed_cents = coverage.committed_cents"
                    " + EXCLUDED.committed_cents, events = coverage.events + 1, updated_at = now()",
                    body["objective_id"],
                    body["committed_cents"],
                )
        handled += 1
        if handled >= n:
            done.set()

    await broker.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all", linger_ms=10)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [
            await producer.send(topic, json.dumps(command(i, objectives)).encode(), key=f"BENCH-{i}".encode())
            for i in range(n)
        ]
        await asyncio.gather(*futures)
        try:
            await asyncio.wait_for(done.wait(), timeout=max(120, n / 50))
        except TimeoutError:
            pass
        took = time.perf_counter() - started
    finally:
        await producer.stop()
        await broker.stop()
        await pool.close()
    return {
        "events": n,
        "handled": handled,
        "events_per_s": round(handled / took, 1),
        "seconds": round(took, 3),
        "handler": "faststream subscriber, one transaction per message (inbox insert + coverage upsert)",
    }
