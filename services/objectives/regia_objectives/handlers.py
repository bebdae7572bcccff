"""The objectives service's use cases. Each runs inside one transaction together with its
outbox events (and, for consumed events, the inbox record), so the projection, the events
it publishes and the offsets it commits can never disagree after a crash."""

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from regia_shared import outbox, topics
from regia_shared.consumer import Received
from regia_shared.refusal import Refused
from regia_shared.events.envelope import Envelope
from regia_shared.events.funding import FundingLineChanged
from regia_shared.events.objectives import (
    ObjectiveCoverageChanged,
    ObjectiveDefined,
    ObjectiveStatusChanged,
    YearNeed,
)

from .adapters import allocations, coverage, objectives
from .adapters.objectives import ObjectiveRecord
from .domain.coverage import YearCoverage, year_coverage
from .domain.lines import LineState, latest_per_line

PRODUCER = "objectives"


@dataclass(frozen=True)
class Cause:
    correlation_id: str
    causation_id: str | None = None


class ObjectiveConflict(Refused):
    status, code = 409, "objective_exists"


class ObjectiveNotFound(Refused):
    status, code = 404, "objective_not_found"


async def apply_funding_events(conn: asyncpg.Connection, events: Sequence[Received]) -> list[Envelope]:
    """Apply a batch of funding events: newest line versions win, then every objective-year
    whose money moved is recomputed once for the whole batch."""
    causes: dict[tuple[str, int], Cause] = {}
    states = []
    for event in events:
        p = event.payload
        assert isinstance(p, FundingLineChanged)
        states.append(LineState(p.line_id, p.objective_id, p.fiscal_year, p.level.value,
                                p.institution_id, p.committed_cents, p.disbursed_cents, p.line_version))
        causes[(p.objective_id, p.fiscal_year)] = Cause(event.envelope.correlation_id,
                                                       str(event.envelope.event_id))
    touched = await allocations.apply_newer(conn, latest_per_line(states))
    return await recompute(conn, sorted(touched), causes)


async def recompute(conn: asyncpg.Connection, keys: Sequence[tuple[str, int]],
                    causes: dict[tuple[str, int], Cause]) -> list[Envelope]:
    """Recompute coverage for (objective, year) pairs; publish what changed and return
    the events written."""
    if not keys:
        return []
    defined = await objectives.known(conn, sorted({k[0] for k in keys}))
    keys = [k for k in keys if k[0] in defined]  # money for an objective not yet defined waits
    held = await coverage.held(conn, keys)
    money = await allocations.for_keys(conn, keys)
    changed: list[YearCoverage] = []
    envelopes: list[Envelope] = []
    for key in keys:
        objective = defined[key[0]]
        now = year_coverage(key[0], key[1], objective.needs.get(key[1], 0),
                            objective.at_risk_threshold_pct, money.get(key, []))
        before = held.get(key)
        if now.same_figures(before):
            continue
        changed.append(now)
        envelopes.extend(_events(objective, now, before, causes.get(key)))
    await coverage.save(conn, changed)
    await outbox.append(conn, topics.OBJECTIVES, envelopes)
    return envelopes


def _events(objective: ObjectiveRecord, now: YearCoverage, before: YearCoverage | None,
            cause: Cause | None) -> list[Envelope]:
    def wrap(payload):  # type: ignore[no-untyped-def]
        return Envelope.wrap(payload, key=now.objective_id, producer=PRODUCER,
                             correlation_id=cause.correlation_id if cause else None,
                             causation_id=cause.causation_id if cause else None)

    events = [wrap(ObjectiveCoverageChanged(
        objective_id=now.objective_id, title=objective.title, fiscal_year=now.fiscal_year,
        need_cents=now.need_cents, committed_cents=now.committed_cents,
        disbursed_cents=now.disbursed_cents, committed_by_level=now.committed_by_level,
        coverage_bp=now.coverage_bp, status=now.status))]
    if before is None or before.status != now.status:
        events.append(wrap(ObjectiveStatusChanged(
            objective_id=now.objective_id, title=objective.title, fiscal_year=now.fiscal_year,
            previous_status=before.status if before else None, status=now.status,
            coverage_bp=now.coverage_bp, need_cents=now.need_cents,
            committed_cents=now.committed_cents,
            at_risk_threshold_pct=objective.at_risk_threshold_pct)))
    return events


async def define_objective(pool: asyncpg.Pool, objective: ObjectiveRecord, cause: Cause) -> bool:
    """Define an objective; returns False when an identical one already exists."""
    async with pool.acquire() as conn, conn.transaction():
        existing = await objectives.get(conn, objective.objective_id, for_update=True)
        if existing is not None:
            if existing == objective:
                return False
            raise ObjectiveConflict(
                f"objective {objective.objective_id!r} already exists with other data; "
                "change its needs with PUT /v1/objectives/{id}/needs/{year}", "objective_id")
        try:
            await objectives.insert(conn, objective)
        except asyncpg.UniqueViolationError as exc:
            raise ObjectiveConflict(f"objective {objective.objective_id!r} already exists",
                                    "objective_id") from exc
        defined = Envelope.wrap(ObjectiveDefined(
            objective_id=objective.objective_id, title=objective.title,
            at_risk_threshold_pct=objective.at_risk_threshold_pct,
            needs=[YearNeed(fiscal_year=y, need_cents=n) for y, n in sorted(objective.needs.items())],
        ), key=objective.objective_id, producer=PRODUCER, correlation_id=cause.correlation_id)
        await outbox.append(conn, topics.OBJECTIVES, [defined])
        years = set(objective.needs) | await allocations.years_of(conn, objective.objective_id)
        await recompute(conn, [(objective.objective_id, y) for y in sorted(years)], {})
        return True


async def set_need(pool: asyncpg.Pool, objective_id: str, fiscal_year: int, need_cents: int,
                   cause: Cause) -> list[Envelope]:
    async with pool.acquire() as conn, conn.transaction():
        if await objectives.get(conn, objective_id, for_update=True) is None:
            raise ObjectiveNotFound(f"no objective {objective_id!r}")
        await objectives.set_need(conn, objective_id, fiscal_year, need_cents)
        return await recompute(conn, [(objective_id, fiscal_year)],
                               {(objective_id, fiscal_year): cause})
