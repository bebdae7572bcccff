"""A new lead's briefing is never lost to the race between its two consumers, against the
real PostgreSQL: the lead's assignment (the partners topic) and the objective's first
status (the coverage topic) are applied by two consumers with no order between them, each
in its own transaction. Whichever comes first, and even when the two run at once, the
lead is told the objective's state exactly once (adapters.owed_briefings)."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from prometheus_client import CollectorRegistry

from regia_notifier.adapters.metrics import NotifierMetrics
from regia_notifier.service_layer.alert_planning import AlertPlanner
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import CoverageStatus, ObjectiveStatusChanged
from regia_shared.contracts.events.registry import parse_payload
from regia_shared.db import create_pool, migrate
from regia_shared.messaging.consumer import Received

from ..support.infra import Database
from ..support.wait import eventually
from .test_notifier import directory, lead

OBJECTIVE = "lavoro"


def received(envelope: Envelope) -> Received:
    return Received(envelope, parse_payload(envelope))


def first_status(year: int = 2027) -> Received:
    payload = ObjectiveStatusChanged(
        objective_id=OBJECTIVE,
        title="Rete per il lavoro",
        fiscal_year=year,
        previous_status=None,
        status=CoverageStatus.UNFUNDED,
        coverage_bp=0,
        need_cents=5_000_000_00,
        committed_cents=0,
        at_risk_threshold_pct=80,
    )
    return received(Envelope.wrap(payload, key=OBJECTIVE, producer="objectives"))


@asynccontextmanager
async def planned(database: Database) -> AsyncIterator[tuple[asyncpg.Pool, AlertPlanner]]:
    pool = await create_pool(database.dsn, "notifier")
    try:
        await migrate(pool, "notifier", "regia_notifier")
        planner = AlertPlanner(time(8), ZoneInfo("Europe/Rome"), window_first_year=2025, today=lambda: date(2026, 6, 1))
        async with pool.acquire() as conn, conn.transaction():
            # Regione Liguria and its two contacts (not the lead of directory(): that is what is tested).
            await planner.apply_partner_events(conn, [received(e) for e in directory()[:3]])
        yield pool, planner
    finally:
        await pool.close()


Use = Callable[[asyncpg.Connection, Sequence[Received]], Awaitable[Any]]


async def in_transaction(pool: asyncpg.Pool, use: Use, events: Sequence[Received]) -> Any:
    async with pool.acquire() as conn, conn.transaction():
        return await use(conn, events)


async def briefings(pool: asyncpg.Pool) -> list[tuple[str, str, str]]:
    """The current-state alerts queued for the grouping window: (objective, contact, cause)."""
    rows = await pool.fetch(
        "SELECT objective_id, contact_id, cause_event_id::text FROM waiting_alerts WHERE trigger = 'current_state'"
        " ORDER BY contact_id"
    )
    return [tuple(r) for r in rows]


async def waits_on_a_lock(pool: asyncpg.Pool, task: "asyncio.Task[Any]") -> None:
    """Until some other backend of this pool waits on a lock (or the task ends: it did not wait)."""

    async def waiting() -> bool:
        assert not task.done(), f"it did not wait for the other transaction: {task.result()!r}"
        n = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return bool(n)

    await eventually(waiting, what="the second transaction waiting for the first")


async def test_a_lead_assigned_before_any_status_is_briefed_by_the_first_status(database: Database) -> None:
    async with planned(database) as (pool, planner):
        assigned = received(lead(OBJECTIVE, "regione-liguria"))
        assert await in_transaction(pool, planner.apply_partner_events, [assigned]) == []
        assert await pool.fetchval("SELECT partner_id FROM owed_briefings WHERE objective_id = $1", OBJECTIVE) == (
            "regione-liguria"
        )
        # Operators see it owed, and for how long (RegiaLeadBriefingOwed fires after an hour).
        registry = CollectorRegistry()
        metrics = NotifierMetrics(registry)
        async with pool.acquire() as conn:
            await metrics.refresh_owed(conn)
        assert registry.get_sample_value("regia_notifier_briefings_owed") == 1
        waited = registry.get_sample_value("regia_notifier_briefing_owed_seconds")
        assert waited is not None and waited >= 0
        plans = await in_transaction(pool, planner.plan_events, [first_status()])
        assert [(p.trigger, p.objective_id) for p in plans] == [("current_state", OBJECTIVE)]
        assert await briefings(pool) == [
            (OBJECTIVE, "rossi", str(assigned.envelope.event_id)),
            (OBJECTIVE, "smith", str(assigned.envelope.event_id)),
        ]
        # Owed no more: the next year's first status and the assignment replayed tell nothing again.
        assert await pool.fetchval("SELECT count(*) FROM owed_briefings") == 0
        async with pool.acquire() as conn:
            await metrics.refresh_owed(conn)
        assert registry.get_sample_value("regia_notifier_briefings_owed") == 0
        assert registry.get_sample_value("regia_notifier_briefing_owed_seconds") == 0
        assert await in_transaction(pool, planner.plan_events, [first_status(2028)]) == []
        await in_transaction(pool, planner.apply_partner_events, [assigned])
        assert len(await briefings(pool)) == 2


async def test_the_first_status_applied_while_the_assignment_commits_waits_and_tells_it(
    database: Database,
) -> None:
    async with planned(database) as (pool, planner):
        async with pool.acquire() as conn:
            assignment = conn.transaction()
            await assignment.start()
            # No status known yet: the assignment owes its lead the briefing, not committed yet.
            assert await planner.apply_partner_events(conn, [received(lead(OBJECTIVE, "regione-liguria"))]) == []
            status = asyncio.create_task(in_transaction(pool, planner.plan_events, [first_status()]))
            await waits_on_a_lock(pool, status)
            await assignment.commit()
        plans = await status
    assert [(p.trigger, p.objective_id) for p in plans] == [("current_state", OBJECTIVE)]


async def test_the_assignment_applied_while_the_first_status_commits_waits_and_tells_it(
    database: Database,
) -> None:
    async with planned(database) as (pool, planner):
        async with pool.acquire() as conn:
            first = conn.transaction()
            await first.start()
            # The first status, not committed yet: nothing is owed, so it tells nobody.
            assert await planner.plan_events(conn, [first_status()]) == []
            assignment = asyncio.create_task(
                in_transaction(pool, planner.apply_partner_events, [received(lead(OBJECTIVE, "regione-liguria"))])
            )
            await waits_on_a_lock(pool, assignment)
            await first.commit()
        plans = await assignment
        assert [(p.trigger, p.objective_id) for p in plans] == [("current_state", OBJECTIVE)]
        assert await pool.fetchval("SELECT count(*) FROM owed_briefings") == 0


@pytest.mark.parametrize("funded", [False, True])
async def test_a_newer_lead_takes_the_owed_briefing_and_a_funded_objective_tells_nothing(
    database: Database, funded: bool
) -> None:
    async with planned(database) as (pool, planner):
        await in_transaction(pool, planner.apply_partner_events, [received(lead(OBJECTIVE, "comune-spezia"))])
        await in_transaction(pool, planner.apply_partner_events, [received(lead(OBJECTIVE, "regione-liguria"))])
        status = first_status()
        if funded:
            payload = status.payload.model_copy(
                update={"status": CoverageStatus.FUNDED, "coverage_bp": 10_000, "committed_cents": 5_000_000_00}
            )
            status = received(Envelope.wrap(payload, key=OBJECTIVE, producer="objectives"))
        plans = await in_transaction(pool, planner.plan_events, [status])
        assert [p.partners for p in plans] == ([] if funded else [("regione-liguria",)])
        assert await pool.fetchval("SELECT count(*) FROM owed_briefings") == 0
