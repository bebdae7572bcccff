"""Announcing the milestones that go overdue: the sweep the objectives service runs on
start and then periodically (entrypoints/milestone_job.py).

A milestone goes overdue silently, by the calendar: nothing is written when its due date
passes. The sweep finds those whose going overdue is news (domain.milestones.overdue_news)
and, in one transaction per batch, publishes `MilestoneWentOverdue` for each through the
outbox and records the due date announced. Both commit together or not at all, so a crash
between them announces nothing twice and loses nothing; the rows are claimed with SKIP
LOCKED, so replicas sweeping at once share the work and never announce one due date twice.
`today` is the caller's clock (the service's, which tests and drills pin).
"""

from datetime import date

import asyncpg

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import MilestoneWentOverdue
from regia_shared.messaging import outbox

from ..adapters import milestones
from ..domain.milestones import overdue_news

PRODUCER = "objectives"
BATCH = 200


async def announce_overdue_milestones(pool: asyncpg.Pool, today: date, *, batch: int = BATCH) -> int:
    """Announce every milestone gone overdue by `today` and not announced yet; returns how
    many were. A batch at a time, each in its own transaction, so a long backlog holds no
    lock for long."""
    announced = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            claimed = await milestones.claim_overdue_news(conn, today, batch)
            news = [m for m, announced_for in claimed if overdue_news(m, announced_for, today)]
            await outbox.append(
                conn,
                topics.OBJECTIVES,
                [
                    Envelope.wrap(
                        MilestoneWentOverdue(
                            objective_id=m.objective_id,
                            milestone_id=m.milestone_id,
                            title=m.title,
                            due_on=m.due_on,
                            noticed_on=today,
                        ),
                        key=m.objective_id,
                        producer=PRODUCER,
                    )
                    for m in news
                ],
            )
            await milestones.mark_announced(conn, [m.milestone_id for m in news])
        announced += len(news)
        if len(claimed) < batch or not news:
            return announced
