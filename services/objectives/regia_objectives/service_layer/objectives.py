"""Use cases on standalone objectives (plans have theirs in plans.py). Each runs in one
transaction with the events it publishes."""

import asyncpg

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import ObjectiveDefined, YearNeed
from regia_shared.messaging import outbox
from regia_shared.writes import WriteContext, record_write

from ..adapters import allocations, objectives
from ..adapters.objectives import ObjectiveRecord
from ..domain.errors import ObjectiveConflict, ObjectiveNotFound
from .projection import PRODUCER, Cause, recompute


def defined_event(objective: ObjectiveRecord, correlation_id: str | None) -> Envelope:
    return Envelope.wrap(
        ObjectiveDefined(
            objective_id=objective.objective_id,
            title=objective.title,
            at_risk_threshold_pct=objective.at_risk_threshold_pct,
            needs=[YearNeed(fiscal_year=y, need_cents=n) for y, n in sorted(objective.needs.items())],
            plan_id=objective.plan_id,
            parent_id=objective.parent_id,
            kind=objective.kind,
        ),
        key=objective.objective_id,
        producer=PRODUCER,
        correlation_id=correlation_id,
    )


async def define_objective(
    pool: asyncpg.Pool, objective: ObjectiveRecord, cause: Cause, write: WriteContext | None = None
) -> bool:
    """Define a standalone objective; returns False when an identical one already exists."""
    async with pool.acquire() as conn, conn.transaction():
        existing = await objectives.get(conn, objective.objective_id, for_update=True)
        if existing is not None:
            if existing == objective:
                if write is not None:
                    write.status = 200
                    await record_write(
                        conn, write, subject=f"objective:{objective.objective_id}", effect={"defined": False}
                    )
                return False
            raise ObjectiveConflict(
                f"objective {objective.objective_id!r} already exists with other data; "
                "change its needs with PUT /v1/objectives/{id}/needs/{year}",
                "objective_id",
            )
        await objectives.lock_definitions(conn)  # before the allocations are read below
        try:
            await objectives.insert(conn, objective)
        except asyncpg.UniqueViolationError as exc:
            raise ObjectiveConflict(f"objective {objective.objective_id!r} already exists", "objective_id") from exc
        await outbox.append(conn, topics.OBJECTIVES, [defined_event(objective, cause.correlation_id)])
        years = set(objective.needs) | await allocations.years_of(conn, objective.objective_id)
        await recompute(conn, [(objective.objective_id, y) for y in sorted(years)], {})
        if write is not None:
            await record_write(conn, write, subject=f"objective:{objective.objective_id}", effect={"defined": True})
        return True


async def set_need(
    pool: asyncpg.Pool,
    objective_id: str,
    fiscal_year: int,
    need_cents: int,
    cause: Cause,
    write: WriteContext | None = None,
) -> list[Envelope]:
    async with pool.acquire() as conn, conn.transaction():
        if await objectives.get(conn, objective_id, for_update=True) is None:
            raise ObjectiveNotFound(f"no objective {objective_id!r}")
        await objectives.set_need(conn, objective_id, fiscal_year, need_cents)
        events = await recompute(conn, [(objective_id, fiscal_year)], {(objective_id, fiscal_year): cause})
        if write is not None:
            await record_write(
                conn,
                write,
                subject=f"objective:{objective_id}",
                effect={
                    "fiscal_year": fiscal_year,
                    "need_cents": need_cents,
                    "event_ids": [str(e.event_id) for e in events],
                },
            )
        return events
