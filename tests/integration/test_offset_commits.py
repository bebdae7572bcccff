"""A consumer group commits its offsets every so often (`offset_commits`), against a real
broker and PostgreSQL: a trickle of records costs fewer commits than batches, the offsets
reach the topic's end soon after the records stop, and what was applied but not committed
when the group stopped is read again by the next one and changes nothing."""

import asyncio
from collections.abc import Sequence

import asyncpg
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from regia_shared.db import create_pool, migrate
from regia_shared.messaging import consumer
from regia_shared.messaging.consumer import Polling, Received
from regia_shared.messaging.kafka import ensure_topics
from regia_shared.observability import metrics_consumer

from ..support import kafka
from ..support.infra import Database
from ..support.partners import objective_defined
from ..support.wait import eventually

SCHEMA = "offsetstest"
TOPIC = "regia.offsetstest.v1"
NAME = "offsetstest.applier"
WANTED = ["ObjectiveDefined"]


async def _setup(database: Database, bs: str) -> asyncpg.Pool:
    pool = await create_pool(database.dsn, SCHEMA)
    await migrate(pool, SCHEMA, "regia_shared")
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS applied (objective_id text NOT NULL)")
        await conn.execute("TRUNCATE applied")
    await ensure_topics(bs, [TOPIC], 1)
    return pool


def _group(bs: str, pool: asyncpg.Pool, group: str, commit_interval_ms: int) -> tuple[KafkaBroker, list[int]]:
    """A group applying the topic's definitions into `applied`; and the batch sizes it was given."""
    batches: list[int] = []

    async def apply(conn: asyncpg.Connection, events: Sequence[Received]) -> None:
        ids = [e.payload.objective_id for e in events]  # type: ignore[attr-defined]
        await conn.execute("INSERT INTO applied SELECT unnest($1::text[])", ids)

    def seen(events: Sequence[Received], _: object) -> None:
        batches.append(len(events))

    broker = KafkaBroker(bs, logger=None)
    # The session timeout the services under test run with (tests/support/services.py): the
    # broker gives up on a stopped group's member after 2 s, so its successor joins in
    # seconds, not after the default's 10 s twice over.
    consumer.subscribe_group(
        broker,
        lambda: pool,
        group=group,
        subscriptions=[consumer.consumes(TOPIC, NAME, WANTED, apply, on_committed=seen)],
        polling=Polling(
            session_timeout_ms=2000, fetch_max_wait_ms=20, batch_timeout_ms=500, commit_interval_ms=commit_interval_ms
        ),
    )
    return broker, batches


async def _committed(bs: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bs)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group, partitions=[TopicPartition(TOPIC, 0)])
    finally:
        await admin.close()
    at = found.get(TopicPartition(TOPIC, 0))
    return -1 if at is None else at.offset


async def _applied(pool: asyncpg.Pool) -> list[str]:
    async with pool.acquire() as conn:
        return [r["objective_id"] for r in await conn.fetch("SELECT objective_id FROM applied ORDER BY 1")]


async def _published_and_applied(bs: str, pool: asyncpg.Pool, prefix: str, count: int) -> list[str]:
    """Publish `count` definitions in one go and wait until the running group applied them;
    their objective ids, sorted."""
    sent = [objective_defined(f"{prefix}{i:02d}") for i in range(count)]
    await kafka.publish(bs, TOPIC, [e.to_json() for e in sent], key=b"k", signed_as=None)
    expected = sorted(e.payload["objective_id"] for e in sent)
    await eventually(lambda: _is(_applied(pool), expected), what="the definitions applied")
    return expected


async def test_a_trickle_costs_fewer_commits_than_batches_and_is_committed_once_it_stops(
    database: Database,
    broker,  # type: ignore[no-untyped-def]
) -> None:
    bs = broker.bootstrap_servers
    pool = await _setup(database, bs)
    group, batches = _group(bs, pool, "offsetstest.trickle", commit_interval_ms=400)
    await group.start()
    commits = consumer.offset_commits_of(group, "offsetstest.trickle")
    try:
        sent = [objective_defined(f"offsets-t{i:02d}") for i in range(20)]
        for event in sent:  # one record every 40 ms: a batch each, or nearly
            await kafka.publish(bs, TOPIC, [event.to_json()], key=b"k", signed_as=None)
            await asyncio.sleep(0.04)
        expected = sorted(e.payload["objective_id"] for e in sent)
        await eventually(lambda: _is(_applied(pool), expected), what="every definition applied once")
        # Committed soon after the records stopped, though no further batch came.
        await eventually(lambda: _is(_committed(bs, "offsetstest.trickle"), 20), what="the offsets at the end")
        assert len(batches) >= 5, batches  # the trickle came in many batches...
        assert commits.commits < len(batches), (commits.commits, batches)  # ...and took fewer commits
        assert not commits.pending
        assert commits.unhandled == 0  # every batch handed out reached the handler
        counted = metrics_consumer.of(group).registry.get_sample_value(
            "regia_consumer_offset_commits_total",
            {"service": "unknown", "consumer": "offsetstest.trickle", "outcome": "committed"},
        )
        assert counted == commits.commits
    finally:
        await group.stop()
        await pool.close()


async def test_what_was_applied_but_not_committed_is_read_again_and_changes_nothing(
    database: Database,
    broker,  # type: ignore[no-untyped-def]
) -> None:
    bs = broker.bootstrap_servers
    pool = await _setup(database, bs)
    # An interval no test outlives: the first group never commits, as if it crashed.
    first, _ = _group(bs, pool, "offsetstest.redelivered", commit_interval_ms=60_000)
    await first.start()
    try:
        expected = await _published_and_applied(bs, pool, "offsets-r", 6)
    finally:
        await first.stop()
    assert await _committed(bs, "offsetstest.redelivered") == -1  # applied, never committed

    second, batches = _group(bs, pool, "offsetstest.redelivered", commit_interval_ms=100)
    await second.start()
    try:
        await eventually(lambda: _is(_committed(bs, "offsetstest.redelivered"), 6), what="read again and committed")
        assert sum(batches) == 0  # every record a duplicate: nothing applied again
        assert await _applied(pool) == expected
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", NAME) == 6
    finally:
        await second.stop()
        await pool.close()


async def test_a_stopping_service_commits_what_it_applied(
    database: Database,
    broker,  # type: ignore[no-untyped-def]
) -> None:
    bs = broker.bootstrap_servers
    pool = await _setup(database, bs)
    group, _ = _group(bs, pool, "offsetstest.stopped", commit_interval_ms=60_000)
    await group.start()
    try:
        await _published_and_applied(bs, pool, "offsets-s", 4)
        assert await _committed(bs, "offsetstest.stopped") == -1  # not due for a minute
        await consumer.flush_offsets(group)  # what ServiceRuntime.stop does before the broker stops
        assert await _committed(bs, "offsetstest.stopped") == 4
    finally:
        await group.stop()
        await pool.close()


async def _is(value, expected) -> bool:  # type: ignore[no-untyped-def]
    return await value == expected
