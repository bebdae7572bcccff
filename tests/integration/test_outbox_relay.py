"""The outbox relay against a real PostgreSQL and broker: woken by NOTIFY at commit, in
order per key, and published once even with a standby relay beside the leader."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.partners import ObjectiveLeadAssigned
from regia_shared.db import create_pool, migrate
from regia_shared.messaging import outbox
from regia_shared.messaging.kafka import OutboxProducer, ensure_topics

from ..support import kafka
from ..support.infra import Database

TOPIC = "regia.relaytest.v1"
SCHEMA = "relaytest"


@contextlib.asynccontextmanager
async def relay(database: Database, bootstrap: str, poll_s: float) -> AsyncIterator[outbox.OutboxRelay]:
    producer = OutboxProducer(bootstrap, idempotence=False)
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


async def write(database: Database, envelopes: list[Envelope]) -> None:
    pool = await create_pool(database.dsn, SCHEMA)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await outbox.append(conn, TOPIC, envelopes)
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
