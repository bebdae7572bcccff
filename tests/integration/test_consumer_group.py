"""One consumer group for several consumers (`consumer.subscribe_group`), against a real
broker and PostgreSQL: a batch is applied in one transaction, each consumer claiming in
its own inbox; when one consumer's event keeps failing, the batch is split as a whole, every
other event of every consumer is applied exactly once, and the failing one is set aside
under its own consumer's name, in its table and on its dead-letter topic."""

import asyncio
from collections.abc import Sequence

import asyncpg
from faststream.kafka import KafkaBroker

from regia_shared.contracts import topics
from regia_shared.db import create_pool, migrate
from regia_shared.messaging import consumer
from regia_shared.messaging.consumer import Polling, Received
from regia_shared.messaging.kafka import ensure_topics

from ..support import kafka
from ..support.infra import Database
from ..support.partners import objective_defined
from ..support.wait import eventually

SCHEMA = "grouptest"
LEADS, PLANS = "regia.grouptest.leads.v1", "regia.grouptest.plans.v1"
BAD = "grouptest-bad"  # the objective whose event the second consumer cannot apply


async def test_a_failing_event_of_one_consumer_costs_no_other_event_of_the_group(database: Database, broker) -> None:  # type: ignore[no-untyped-def]
    bs = broker.bootstrap_servers
    pool = await create_pool(database.dsn, SCHEMA)
    await migrate(pool, SCHEMA, "regia_shared")
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE applied (consumer text NOT NULL, objective_id text NOT NULL)")
    await ensure_topics(
        bs, [LEADS, PLANS, topics.dead_letter("grouptest.first"), topics.dead_letter("grouptest.second")], 1
    )

    def applying(name: str):  # type: ignore[no-untyped-def]
        async def apply(conn: asyncpg.Connection, events: Sequence[Received]) -> None:
            ids = [e.payload.objective_id for e in events]  # type: ignore[attr-defined]
            await conn.execute("INSERT INTO applied SELECT $1, unnest($2::text[])", name, ids)
            if name == "grouptest.second" and BAD in ids:
                raise ValueError(f"{BAD} cannot be applied")

        return apply

    wanted = ["ObjectiveDefined"]
    group = KafkaBroker(bs, logger=None)
    consumer.subscribe_group(
        group,
        lambda: pool,
        group="grouptest",
        subscriptions=[
            consumer.consumes(LEADS, "grouptest.first", wanted, applying("grouptest.first")),
            consumer.consumes(PLANS, "grouptest.second", wanted, applying("grouptest.second")),
        ],
        polling=Polling(fetch_max_wait_ms=50, batch_timeout_ms=20, max_attempts=2),
        retry_pause_s=0.05,
    )
    firsts = [objective_defined(f"grouptest-a{i}") for i in range(5)]
    seconds = [objective_defined(f"grouptest-b{i}") for i in range(2)] + [objective_defined(BAD)]
    seconds += [objective_defined(f"grouptest-b{i}") for i in range(2, 4)]
    # Both topics hold their records before the group joins: its first fetch takes both.
    await kafka.publish(bs, LEADS, [e.to_json() for e in firsts], key=b"k", signed_as=None)
    await kafka.publish(bs, PLANS, [e.to_json() for e in seconds], key=b"k", signed_as=None)
    await group.start()
    try:

        async def applied() -> list[tuple[str, str]]:
            async with pool.acquire() as conn:
                rows = await conn.fetch("SELECT consumer, objective_id FROM applied ORDER BY 1, 2")
            return [(r["consumer"], r["objective_id"]) for r in rows]

        expected = sorted(
            [("grouptest.first", e.payload["objective_id"]) for e in firsts]
            + [("grouptest.second", e.payload["objective_id"]) for e in seconds if e.payload["objective_id"] != BAD]
        )
        await eventually(lambda: _is(applied(), expected), what="every event but the bad one applied once")
        async with pool.acquire() as conn:
            set_aside = await conn.fetch("SELECT consumer, topic, error FROM dead_letters")
            inboxes = await conn.fetch("SELECT consumer, count(*) AS n FROM inbox GROUP BY 1 ORDER BY 1")
        assert [(r["consumer"], r["topic"]) for r in set_aside] == [("grouptest.second", PLANS)]
        assert f"{BAD} cannot be applied" in set_aside[0]["error"]
        assert [(r["consumer"], r["n"]) for r in inboxes] == [("grouptest.first", 5), ("grouptest.second", 4)]
        [letter] = await kafka.read_records(bs, topics.dead_letter("grouptest.second"), expect=1)
        assert letter.value == seconds[2].to_json()
        await asyncio.sleep(0.5)  # nothing more comes: the group has committed past the batch
        assert await applied() == expected
    finally:
        await group.stop()
        await pool.close()


async def _is(value, expected) -> bool:  # type: ignore[no-untyped-def]
    return await value == expected
