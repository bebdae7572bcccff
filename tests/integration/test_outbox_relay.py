"""The outbox relay against a real PostgreSQL and broker: woken by NOTIFY at commit, in
order per key, and published once even with a standby relay beside the leader."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import asyncpg
import pytest

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.partners import ObjectiveLeadAssigned
from regia_shared.db import create_pool, migrate
from regia_shared.messaging import outbox, signing
from regia_shared.messaging.kafka import OutboxProducer, ensure_topics

from ..support import kafka
from ..support.infra import Database
from ..support.services import EVENT_KEYS

TOPIC = "regia.relaytest.v1"
SCHEMA = "relaytest"


@contextlib.asynccontextmanager
async def relay(database: Database, bootstrap: str, poll_s: float) -> AsyncIterator[outbox.OutboxRelay]:
    # The relay of a partners service: it signs what it publishes on partners' topic.
    producer = OutboxProducer(
        bootstrap,
        idempotence=False,
        sign=lambda topic, key, value: EVENT_KEYS.headers_for("partners", topic, key, value),
    )
    await producer.start()
    r = outbox.OutboxRelay(database.dsn, SCHEMA, producer.publish, poll_interval_s=poll_s, batch_size=50)
    task = asyncio.create_task(r.run())
    try:
        yield r
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await producer.stop()


async def write(database: Database, envelopes: list[Envelope], topic: str = TOPIC) -> None:
    pool = await create_pool(database.dsn, SCHEMA)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await outbox.append(conn, topic, envelopes)
    finally:
        await pool.close()


def events(n: int, keys: int) -> list[Envelope]:
    return [
        Envelope.wrap(
            ObjectiveLeadAssigned(objective_id=f"o{i % keys}", partner_id=f"p{i}"), key=f"o{i % keys}", producer="test"
        )
        for i in range(n)
    ]


@pytest.fixture
async def prepared(database: Database, broker):  # type: ignore[no-untyped-def]
    pool = await create_pool(database.dsn, SCHEMA)
    await migrate(pool, SCHEMA, "regia_shared")
    await pool.close()
    await ensure_topics(broker.bootstrap_servers, [TOPIC], 3)


async def test_notify_wakes_the_relay_and_order_per_key_holds(prepared, database: Database, broker) -> None:  # type: ignore[no-untyped-def]
    sent = events(200, keys=5)
    # A poll interval far beyond the wait below: only the NOTIFY at commit can wake it.
    async with relay(database, broker.bootstrap_servers, poll_s=600) as leader:
        await asyncio.wait_for(leader.leading.wait(), 30)  # it holds the lead and LISTENs
        await write(database, sent)
        got = await kafka.read_all(broker.bootstrap_servers, TOPIC, expect=200, timeout=20)
    assert sorted(e.event_id for e in got) == sorted(e.event_id for e in sent)
    for key in {e.key for e in sent}:
        assert [e.payload["partner_id"] for e in got if e.key == key] == [
            e.payload["partner_id"] for e in sent if e.key == key
        ]
    unpublished = await database.fetchval(SCHEMA, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
    assert unpublished == 0


async def test_a_standby_relay_publishes_nothing_twice(prepared, database: Database, broker) -> None:  # type: ignore[no-untyped-def]
    sent = events(120, keys=3)
    async with (
        relay(database, broker.bootstrap_servers, poll_s=0.2) as first,
        relay(database, broker.bootstrap_servers, poll_s=0.2) as second,
    ):
        await write(database, sent[:60])
        await write(database, sent[60:])
        got = await kafka.read_all(broker.bootstrap_servers, TOPIC, expect=120, timeout=20)
        await asyncio.sleep(1)
        late = await kafka.read_all(broker.bootstrap_servers, TOPIC, expect=121, timeout=2)
    assert len(got) == len(late) == 120
    assert sorted(r.published_total for r in (first, second)) == [0, 120]


async def test_the_relay_signs_what_it_publishes_on_its_services_topic(prepared, database: Database, broker) -> None:  # type: ignore[no-untyped-def]
    await ensure_topics(broker.bootstrap_servers, [topics.PARTNERS], 3)
    sent = events(5, keys=2)
    async with relay(database, broker.bootstrap_servers, poll_s=0.2) as leader:
        await asyncio.wait_for(leader.leading.wait(), 30)
        await write(database, sent, topics.PARTNERS)
        records = await kafka.read_records(broker.bootstrap_servers, topics.PARTNERS, expect=5, timeout=20)
    assert len(records) == 5
    for r in records:
        header = signing.record_signature(r.headers)
        assert header is not None and header.startswith(b"partners-test-1:")
        # What a consumer checks: the owner's key over these bytes, this topic and key.
        assert EVENT_KEYS.verify(r.topic, r.key, r.value, header) is None
        assert EVENT_KEYS.verify(topics.OBJECTIVES, r.key, r.value, header) is not None
    # On the test's own topic, which no service owns, nothing is signed (the tests above).


async def test_a_row_is_written_when_its_statement_ran_not_when_its_transaction_began(
    prepared, database: Database
) -> None:  # type: ignore[no-untyped-def]
    # The benchmark's hops measure from an event's origin, stamped inside the writer's
    # transaction, to its outbox row: that row must not claim to predate it.
    pool = await create_pool(database.dsn, SCHEMA)
    try:
        async with pool.acquire() as conn, conn.transaction():
            began = await conn.fetchval("SELECT now()")
            await conn.execute("SELECT pg_sleep(0.05)")  # what a writer does before it writes
            [envelope] = events(1, 1)
            await outbox.append(conn, TOPIC, [envelope])
            written = await conn.fetchval("SELECT created_at FROM outbox WHERE event_id = $1", envelope.event_id)
        assert (written - began).total_seconds() >= 0.05
        assert written >= envelope.origin
    finally:
        await pool.close()


async def test_the_prune_deletes_what_the_retention_let_go_and_reads_no_more(prepared, database: Database) -> None:  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(database.dsn, server_settings={"search_path": SCHEMA})
    try:
        await conn.execute("TRUNCATE outbox")
        row = (
            "INSERT INTO outbox (event_id, topic, key, type, body, correlation_id, created_at, published_at)"
            " SELECT gen_random_uuid(), 't', 'k', 'T', repeat('x', 800), 'c', now() - make_interval(days => $2),"
            " now() - make_interval(days => $3) FROM generate_series(1, $1)"
        )
        await conn.execute(row, 300, 9, 8)  # published eight days ago: let go
        await conn.execute(
            "INSERT INTO outbox (event_id, topic, key, type, body, correlation_id, created_at)"
            " SELECT gen_random_uuid(), 't', 'k', 'T', 'x', 'c', now() - interval '9 days'"
        )  # never published (the broker was gone for a week): kept
        await conn.execute(row, 3_000, 1, 1)  # within the week: kept
        await conn.execute("ANALYZE outbox")
        pages = await conn.fetchval("SELECT relpages FROM pg_class WHERE relname = 'outbox'")

        async def pruned() -> tuple[int, int]:
            """The relay's prune (EXPLAIN ANALYZE runs it): rows left, pages it read."""
            [plan] = json.loads(await conn.fetchval("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + outbox.PRUNE, 7))
            left = await conn.fetchval("SELECT count(*) FROM outbox")
            return left, plan["Plan"]["Shared Hit Blocks"] + plan["Plan"]["Shared Read Blocks"]

        left, read = await pruned()
        assert left == 3_001
        await conn.execute("VACUUM outbox")  # as autovacuum does, between two prunes
        left, read = await pruned()  # nothing left to let go: a few pages, not the table
        assert left == 3_001 and read < pages // 10, (read, pages)
    finally:
        await conn.close()
