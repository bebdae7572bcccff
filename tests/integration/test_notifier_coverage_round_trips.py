"""What a batch of coverage events costs the notifier in statements, against the real
PostgreSQL: at a steady rate a batch holds a few events and every round trip is a send, a
wake-up and a wait (docs/performance.md, issue 21), so the batch's reads are one statement
and its writes one more, however many objective-years it moves, and what they record is
what one statement each recorded before."""

from datetime import date, time
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from regia_notifier.service_layer.alert_planning import AlertPlanner
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import CoverageStatus, ObjectiveDefined, ObjectiveStatusChanged
from regia_shared.contracts.events.registry import parse_payload
from regia_shared.db import create_pool, migrate
from regia_shared.messaging.consumer import Received

from ..support.infra import Database
from ..support.objectives_events import coverage_changed

pytestmark = pytest.mark.usefixtures("service_env")


def received(payload: object, key: str) -> Received:
    envelope = Envelope.wrap(payload, key=key, producer="objectives")  # type: ignore[arg-type]
    return Received(envelope, parse_payload(envelope))


def coverage(objective: str, year: int, committed: int) -> Received:
    envelope = coverage_changed(committed, objective_id=objective, title=objective.title(), fiscal_year=year)
    return Received(envelope, parse_payload(envelope))


def status(objective: str, year: int) -> Received:
    return received(
        ObjectiveStatusChanged(
            objective_id=objective,
            title=objective.title(),
            fiscal_year=year,
            previous_status=None,
            status=CoverageStatus.PARTIALLY_FUNDED,
            coverage_bp=4_000,
            need_cents=1_000_000_00,
            committed_cents=400_000_00,
            at_risk_threshold_pct=80,
        ),
        objective,
    )


async def test_a_coverage_batch_is_one_read_and_one_write(database: Database) -> None:
    pool = await create_pool(database.dsn, "notifier")
    try:
        await migrate(pool, "notifier", "regia_notifier")
        planner = AlertPlanner(time(8), ZoneInfo("Europe/Rome"), window_first_year=2025, today=lambda: date(2026, 6, 1))
        async with pool.acquire() as conn:
            sent: list[str] = []
            conn.add_query_logger(lambda q: sent.append(q.query))
            first = [coverage("lavoro", 2027, 300_000_00), status("lavoro", 2027), coverage("porto", 2027, 100_000_00)]
            async with conn.transaction():
                await planner.plan_events(conn, first)
            # Then raises, two changes of one year in the batch: no drop, so nothing to alert
            # on, only what the batch leaves to record. (A year seen for the first time would
            # also ask whether a lead is owed a briefing: adapters.owed_briefings.)
            second = [
                coverage("lavoro", 2027, 400_000_00),
                coverage("lavoro", 2027, 500_000_00),
                coverage("porto", 2027, 150_000_00),
            ]
            sent.clear()
            async with conn.transaction():
                assert await planner.plan_events(conn, second) == []
            statements = [q for q in sent if not q.startswith(("BEGIN", "COMMIT"))]
            assert len(statements) == 2, statements
            assert statements[0].startswith("SELECT") and statements[1].startswith("WITH w0 AS")

            held = await conn.fetch(
                "SELECT objective_id, fiscal_year, committed_cents FROM objective_commitments ORDER BY 1, 2"
            )
            assert [tuple(r) for r in held] == [
                ("lavoro", 2027, 500_000_00),
                ("porto", 2027, 150_000_00),
            ]
            states = await conn.fetch(
                "SELECT objective_id, fiscal_year, committed_cents FROM objective_year_states ORDER BY 1, 2"
            )
            assert [tuple(r) for r in states] == [
                ("lavoro", 2027, 500_000_00),
                ("porto", 2027, 150_000_00),
            ]
    finally:
        await pool.close()


async def test_a_drop_is_measured_against_the_batch_before_it(database: Database) -> None:
    """The amount a change replaces is the one held, or the previous change of the same
    year in the batch: a rise then a fall within one batch is a drop from the rise."""
    pool = await create_pool(database.dsn, "notifier")
    try:
        await migrate(pool, "notifier", "regia_notifier")
        planner = AlertPlanner(time(8), ZoneInfo("Europe/Rome"), window_first_year=2025, today=lambda: date(2026, 6, 1))
        conn: asyncpg.Connection
        async with pool.acquire() as conn:
            async with conn.transaction():
                await planner.plan_events(conn, [coverage("lavoro", 2027, 300_000_00)])
            async with conn.transaction():
                planned = await planner.plan_events(
                    conn, [coverage("lavoro", 2027, 600_000_00), coverage("lavoro", 2027, 200_000_00)]
                )
            # The fall from the batch's own rise is the drop found (none from 300,000.00 up).
            assert [p.trigger for p in planned] == ["funding_dropped"], planned
    finally:
        await pool.close()


async def test_a_batchs_definitions_are_one_statement_the_last_of_an_objective_holding(database: Database) -> None:
    """A region's plan import sends thousands of definitions at once: the batch records them
    in one statement, an objective defined twice in it as its last definition says."""
    pool = await create_pool(database.dsn, "notifier")
    try:
        await migrate(pool, "notifier", "regia_notifier")
        planner = AlertPlanner(time(8), ZoneInfo("Europe/Rome"), window_first_year=2025, today=lambda: date(2026, 6, 1))

        def defined(objective: str, title: str, parent: str | None = None) -> Received:
            return received(
                ObjectiveDefined(
                    objective_id=objective,
                    title=title,
                    at_risk_threshold_pct=70,
                    needs=[],
                    plan_id="pgs",
                    parent_id=parent,
                    kind="OBJECTIVE" if parent else "PROGRAMME",
                ),
                objective,
            )

        async with pool.acquire() as conn:
            sent: list[str] = []
            conn.add_query_logger(lambda q: sent.append(q.query))
            batch = [
                defined("porto", "Porto", "waterfront"),
                defined("waterfront", "Waterfront"),
                defined("porto", "Porto turistico", "waterfront"),
                coverage("porto", 2027, 100_000_00),
            ]
            async with conn.transaction():
                await planner.plan_events(conn, batch)
            assert len([q for q in sent if q.startswith("INSERT INTO objectives")]) == 1, sent
            known = await conn.fetch("SELECT objective_id, title, parent_id FROM objectives ORDER BY 1")
            assert [tuple(r) for r in known] == [
                ("porto", "Porto turistico", "waterfront"),
                ("waterfront", "Waterfront", None),
            ]
    finally:
        await pool.close()
