"""Money for an objective not yet defined, and the objective's definition, at the same
moment against a real PostgreSQL: whichever transaction comes second waits for the first
(objectives.DEFINITIONS_LOCK) and counts the money. Without the lock each read before the
other committed, and the money was never counted (a CI run once saw it:
test_objectives_coverage's early money)."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from regia_objectives.adapters import objectives
from regia_objectives.adapters.objectives import ObjectiveRecord
from regia_objectives.app import create_app
from regia_objectives.service_layer.objectives import define_objective
from regia_objectives.service_layer.projection import Cause, apply_funding_events
from regia_shared.contracts.events.registry import parse_payload
from regia_shared.db import create_pool
from regia_shared.messaging.consumer import Received

from ..support.funding import line_event
from ..support.infra import Database
from ..support.services import in_process

pytestmark = pytest.mark.usefixtures("service_env")
MONEY = 50_000_00
RETE = ObjectiveRecord("rete-lavoro", "Rete per il lavoro", 80, {2027: 100_000_00})


@pytest.fixture
async def migrated(service_env: dict[str, str]) -> AsyncIterator[None]:
    async with in_process("objectives", create_app):  # its schema, migrated
        yield


def early_money() -> list[Received]:
    envelope = line_event("commit", "LIG-7", "rete-lavoro", MONEY, 1)
    return [Received(envelope, parse_payload(envelope))]


async def waiting_on_the_lock(database: Database) -> None:
    conn = await database.connect("objectives")
    try:
        for _ in range(200):
            if await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the second transaction never waited for the definitions lock")
    finally:
        await conn.close()


async def committed(database: Database) -> int | None:
    return await database.fetchval(  # type: ignore[return-value]
        "objectives",
        "SELECT committed_cents FROM coverage WHERE objective_id = 'rete-lavoro' AND fiscal_year = 2027",
    )


async def test_a_definition_made_while_the_money_is_being_applied_counts_it(migrated, database: Database) -> None:  # type: ignore[no-untyped-def]
    projection = await database.connect("objectives")
    pool: asyncpg.Pool = await create_pool(database.dsn, "objectives", max_size=2)
    try:
        async with projection.transaction():
            # The money is written, the objective not known: the projection skips it...
            projected = await apply_funding_events(projection, early_money())
            assert projected.published == []
            assert projected.applied_types == ["FundingCommitted"]  # the line is held all the same
            # ... and the definition, which counts what waited, waits for this commit.
            defining = asyncio.create_task(define_objective(pool, RETE, Cause("race")))
            await waiting_on_the_lock(database)
            assert not defining.done()
        assert await defining is True
        assert await committed(database) == MONEY
    finally:
        await pool.close()
        await projection.close()


async def test_money_applied_while_a_definition_is_being_made_is_counted(migrated, database: Database) -> None:  # type: ignore[no-untyped-def]
    definition = await database.connect("objectives")
    projection = await database.connect("objectives")
    try:
        async with definition.transaction():
            # A definition under way, its objective written, not yet committed, its money read
            # (none yet)...
            await objectives.lock_definitions(definition)
            await objectives.insert(definition, RETE)

            async def apply() -> None:
                async with projection.transaction():
                    await apply_funding_events(projection, early_money())

            # ... and the money that comes meanwhile waits for it, then counts.
            applying = asyncio.create_task(apply())
            await waiting_on_the_lock(database)
            assert not applying.done()
        await applying
        assert await committed(database) == MONEY
    finally:
        await projection.close()
        await definition.close()
