"""The overdue-milestones sweep against a real PostgreSQL: replicas sweeping at once
announce each due date exactly once between them, a sweep after a restart announces
nothing again, and a milestone being edited is left for the next round, not skipped for
good. (The alert it leads to, end to end: test_notifier_triggers.py.)"""

import asyncio
import json
from datetime import date, timedelta

import pytest

from regia_objectives.app import create_app
from regia_objectives.service_layer.overdue_milestones import announce_overdue_milestones
from regia_shared.db import create_pool

from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, in_process

pytestmark = pytest.mark.usefixtures("service_env")
MILESTONES = 300
DUE = date(2027, 3, 15)


@pytest.fixture
async def milestones(database: Database):  # type: ignore[no-untyped-def]
    """The objectives schema (migrated by the service, whose own sweep finds nothing on
    its clock, before every due date) with MILESTONES milestones due on DUE or earlier."""
    async with in_process("objectives", lambda: create_app(today=lambda: date(2027, 1, 1))) as service:
        async with service.client(headers=ADMIN_HEADERS) as admin:
            r = await admin.post("/v1/objectives", json={"objective_id": "miglio-blu", "title": "Miglio Blu"})
            assert r.status_code == 201, r.text
    conn = await database.connect("objectives")
    try:
        await conn.executemany(
            "INSERT INTO milestones (milestone_id, objective_id, title, due_on) VALUES ($1, 'miglio-blu', $2, $3)",
            [(f"m-{i:03d}", f"Traguardo {i}", DUE - timedelta(days=i % 30)) for i in range(MILESTONES)],
        )
    finally:
        await conn.close()
    pool = await create_pool(database.dsn, "objectives", max_size=8)
    try:
        yield pool
    finally:
        await pool.close()


async def announced(database: Database) -> list[str]:
    rows = await database.fetch("objectives", "SELECT body FROM outbox WHERE type = 'MilestoneWentOverdue'")
    return [json.loads(r["body"])["payload"]["milestone_id"] for r in rows]


async def test_replicas_sweeping_at_once_announce_each_due_date_once_and_a_restart_nothing(  # type: ignore[no-untyped-def]
    milestones, database
) -> None:
    day = DUE + timedelta(days=1)
    counts = await asyncio.gather(*(announce_overdue_milestones(milestones, day, batch=40) for _ in range(4)))
    assert sum(counts) == MILESTONES
    ids = await announced(database)
    assert len(ids) == MILESTONES and len(set(ids)) == MILESTONES
    # The service restarted, or the next round: the database says what was announced.
    assert await announce_overdue_milestones(milestones, day) == 0
    assert await announce_overdue_milestones(milestones, day + timedelta(days=30)) == 0
    assert len(await announced(database)) == MILESTONES


async def test_a_milestone_being_edited_is_left_for_the_next_round(milestones, database) -> None:  # type: ignore[no-untyped-def]
    async with milestones.acquire() as editor, editor.transaction():
        await editor.execute("SELECT 1 FROM milestones WHERE milestone_id = 'm-000' FOR UPDATE")
        # The sweep does not wait for the edit: it takes every other row.
        assert await announce_overdue_milestones(milestones, DUE + timedelta(days=1)) == MILESTONES - 1
        assert "m-000" not in await announced(database)
        # The edit reaches the milestone on the day after: not overdue any more.
        await editor.execute("UPDATE milestones SET reached_on = $1 WHERE milestone_id = 'm-000'", DUE)
    assert await announce_overdue_milestones(milestones, DUE + timedelta(days=2)) == 0
    # Its date moved on, and missed again: the next round announces it again.
    await database.fetch(
        "objectives", "UPDATE milestones SET due_on = $1 WHERE milestone_id = 'm-001'", DUE + timedelta(days=5)
    )
    assert await announce_overdue_milestones(milestones, DUE + timedelta(days=6)) == 1
    assert (await announced(database)).count("m-001") == 2  # its first due date, and the new one
