"""Use cases for indicators, milestones and progress. Each write runs in one transaction
with the events it publishes (transactional outbox), and every check that can refuse runs
before anything is written, so a refusal leaves nothing behind."""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope, EventPayload
from regia_shared.contracts.events.objectives import IndicatorFellBehind, IndicatorMeasured, MilestoneReached
from regia_shared.messaging import outbox
from regia_shared.writes import WriteContext, record_write

from ..adapters import indicators, milestones
from ..adapters.indicators import TreeNode
from ..domain.errors import AlreadyRecorded, IndicatorNotFound, MilestoneNotFound, ObjectiveNotFound
from ..domain.indicators import Indicator, Measurement, check_measurement, check_target, check_targets
from ..domain.milestones import Milestone, check_reached_on, days_late, known_overdue_at_definition
from ..domain.progress import (
    FellBehind,
    NodeProgress,
    Progress,
    as_decimal,
    decimal_text,
    end_of,
    fell_behind,
    indicator_figures,
    indicator_progress,
    latest,
    progress_in,
    roll_up,
)

PRODUCER = "objectives"


async def _publish(conn: asyncpg.Connection, payload: EventPayload, key: str, correlation_id: str) -> None:
    await outbox.append(
        conn, topics.OBJECTIVES, [Envelope.wrap(payload, key=key, producer=PRODUCER, correlation_id=correlation_id)]
    )


async def _node(conn: asyncpg.Connection, objective_id: str) -> None:
    if not await indicators.node_exists(conn, objective_id):
        raise ObjectiveNotFound(f"no objective {objective_id!r}", "objective_id")


async def _indicator(conn: asyncpg.Connection, indicator_id: str) -> Indicator:
    found = await indicators.get(conn, indicator_id, for_update=True)
    if found is None:
        raise IndicatorNotFound(f"no indicator {indicator_id!r}", "indicator_id")
    return found


async def define_indicator(
    pool: asyncpg.Pool, indicator: Indicator, targets: dict[int, Decimal], write: WriteContext | None = None
) -> bool:
    """Define an indicator with its first targets; False when an identical one exists (a
    retried request), a conflict when the id holds something else."""
    check_targets(indicator, targets)
    async with pool.acquire() as conn, conn.transaction():
        await _node(conn, indicator.objective_id)
        held = await indicators.get(conn, indicator.indicator_id, for_update=True)
        if held is not None:
            held_targets = (await indicators.targets(conn, [held.indicator_id]))[held.indicator_id]
            if held == indicator and all(held_targets.get(y) == v for y, v in targets.items()):
                return False
            raise AlreadyRecorded(
                f"indicator {indicator.indicator_id!r} already exists with other data;"
                " change its targets with PUT /v1/indicators/{id}/targets/{year}",
                "indicator_id",
            )
        try:
            await indicators.insert(conn, indicator)
        except asyncpg.UniqueViolationError as exc:  # a concurrent twin won the race
            raise AlreadyRecorded(f"indicator {indicator.indicator_id!r} already exists", "indicator_id") from exc
        await indicators.set_targets(conn, indicator.indicator_id, targets)
        await _audit(
            conn,
            write,
            f"indicator:{indicator.indicator_id}",
            {"objective_id": indicator.objective_id, "targets": {str(y): str(v) for y, v in targets.items()}},
        )
        return True


async def set_target(
    pool: asyncpg.Pool, indicator_id: str, fiscal_year: int, value: Decimal, write: WriteContext | None = None
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        indicator = await _indicator(conn, indicator_id)
        check_target(indicator, fiscal_year, value)
        before = (await indicators.targets(conn, [indicator_id]))[indicator_id].get(fiscal_year)
        await indicators.set_targets(conn, indicator_id, {fiscal_year: value})
        effect = {"fiscal_year": fiscal_year, "before": None if before is None else str(before), "after": str(value)}
        await _audit(conn, write, f"indicator:{indicator_id}", effect)


async def _audit(conn: asyncpg.Connection, write: WriteContext | None, subject: str, effect: dict[str, Any]) -> None:
    """A plan write's audit row, in its transaction (regia_shared.writes), when it came with one."""
    if write is not None:
        await record_write(conn, write, subject=subject, effect=effect)


async def record_measurement(
    pool: asyncpg.Pool,
    indicator_id: str,
    m: Measurement,
    today: date,
    correlation_id: str,
    write: WriteContext | None = None,
) -> bool:
    """Record an actual value and publish it with its progress for the year it falls in;
    False when the very same value was already recorded for that date."""
    async with pool.acquire() as conn, conn.transaction():
        indicator = await _indicator(conn, indicator_id)
        check_measurement(indicator, m, today)
        held = await indicators.add_measurement(conn, indicator_id, m)
        if held is not None:
            if held == m:
                return False
            raise AlreadyRecorded(
                f"indicator {indicator_id!r} already has {held.value} measured on "
                f"{held.measured_on}; one value per date",
                "measured_on",
            )
        year = m.measured_on.year
        targets = (await indicators.targets(conn, [indicator_id]))[indicator_id]
        target = targets.get(year)
        progress = indicator_progress(indicator.baseline_value, target, m.value)
        await _publish(
            conn,
            IndicatorMeasured(
                objective_id=indicator.objective_id,
                indicator_id=indicator_id,
                name=indicator.name,
                unit=indicator.unit,
                direction=indicator.direction.value,
                measured_on=m.measured_on,
                value=decimal_text(m.value),
                source=m.source,
                baseline_value=decimal_text(indicator.baseline_value),
                baseline_year=indicator.baseline_year,
                fiscal_year=year,
                target_value=decimal_text(target) if target is not None else None,
                progress=format(as_decimal(progress.raw), "f") if progress.raw is not None else None,
            ),
            indicator.objective_id,
            correlation_id,
        )
        # The indicator's row is locked (FOR UPDATE above), so two measurements of it are
        # judged one after the other, each against what the other left.
        behind = fell_behind(indicator, targets, (await indicators.measurements(conn, [indicator_id]))[indicator_id], m)
        if behind is not None:
            await _publish(conn, _fell_behind(indicator, behind), indicator.objective_id, correlation_id)
        effect = {"measured_on": m.measured_on.isoformat(), "value": decimal_text(m.value), "source": m.source}
        await _audit(conn, write, f"indicator:{indicator_id}", effect)
        return True


def _fell_behind(indicator: Indicator, behind: FellBehind) -> IndicatorFellBehind:
    check, previous = behind.check, behind.previous
    return IndicatorFellBehind(
        objective_id=indicator.objective_id,
        indicator_id=indicator.indicator_id,
        name=indicator.name,
        unit=indicator.unit,
        direction=indicator.direction.value,
        fiscal_year=check.fiscal_year,
        measured_on=check.measurement.measured_on,
        value=decimal_text(check.measurement.value),
        expected_value=decimal_text(as_decimal(check.expected_value)),
        target_value=decimal_text(check.target),
        baseline_value=decimal_text(indicator.baseline_value),
        baseline_year=indicator.baseline_year,
        progress=format(as_decimal(check.progress), "f"),
        expected_progress=format(as_decimal(check.expected), "f"),
        previous_measured_on=previous.measured_on if previous else None,
        previous_value=decimal_text(previous.value) if previous else None,
    )


async def define_milestone(
    pool: asyncpg.Pool, milestone: Milestone, today: date, correlation_id: str, write: WriteContext | None = None
) -> bool:
    """Define a milestone; False when an identical one exists (a retried request). One
    defined already overdue is taken as announced: the sweep tells of milestones that go
    overdue, not of history recorded late."""
    check_reached_on(milestone.reached_on, today)
    async with pool.acquire() as conn, conn.transaction():
        await _node(conn, milestone.objective_id)
        held = await milestones.get(conn, milestone.milestone_id, for_update=True)
        if held is not None:
            if held == milestone:
                return False
            raise AlreadyRecorded(
                f"milestone {milestone.milestone_id!r} already exists with other data;"
                " change it with PATCH /v1/milestones/{id}",
                "milestone_id",
            )
        try:
            await milestones.insert(conn, milestone, known_overdue_at_definition(milestone, today))
        except asyncpg.UniqueViolationError as exc:  # a concurrent twin won the race
            raise AlreadyRecorded(f"milestone {milestone.milestone_id!r} already exists", "milestone_id") from exc
        if milestone.reached_on is not None:
            await publish_reached(conn, milestone, correlation_id)
        effect = {"objective_id": milestone.objective_id, "due_on": milestone.due_on.isoformat()}
        await _audit(conn, write, f"milestone:{milestone.milestone_id}", effect)
        return True


async def update_milestone(
    pool: asyncpg.Pool,
    milestone_id: str,
    changes: dict[str, Any],
    today: date,
    correlation_id: str,
    write: WriteContext | None = None,
) -> Milestone:
    """Change what `changes` names (mark reached, correct a date, reopen with reached_on
    null); MilestoneReached is published when it becomes reached, not on corrections."""
    check_reached_on(changes.get("reached_on"), today)
    async with pool.acquire() as conn, conn.transaction():
        held = await milestones.get(conn, milestone_id, for_update=True)
        if held is None:
            raise MilestoneNotFound(f"no milestone {milestone_id!r}", "milestone_id")
        changed = replace(held, **changes)
        await milestones.update(conn, changed)
        if held.reached_on is None and changed.reached_on is not None:
            await publish_reached(conn, changed, correlation_id)
        effect = {k: v.isoformat() if isinstance(v, date) else v for k, v in changes.items()}
        await _audit(conn, write, f"milestone:{milestone_id}", effect)
        return changed


async def publish_reached(conn: asyncpg.Connection, m: Milestone, correlation_id: str) -> None:
    """MilestoneReached, in the caller's transaction (a plan import marks milestones reached too)."""
    assert m.reached_on is not None
    await _publish(
        conn,
        MilestoneReached(
            objective_id=m.objective_id,
            milestone_id=m.milestone_id,
            title=m.title,
            due_on=m.due_on,
            reached_on=m.reached_on,
            days_late=days_late(m),
        ),
        m.objective_id,
        correlation_id,
    )


@dataclass(frozen=True)
class Figures:
    """Some nodes' indicators against one year's targets, by the latest values as of a date."""

    by_node: dict[str, list[dict]]  # indicator_figures, for reading
    progress: dict[str, list[Progress]]  # for rolling up


async def _figures(conn: asyncpg.Connection, node_ids: list[str], fiscal_year: int, as_of: date) -> Figures:
    found = await indicators.of_nodes(conn, node_ids)
    ids = [i.indicator_id for i in found]
    targets, measured = await indicators.targets(conn, ids), await indicators.measurements(conn, ids)
    figures = Figures({}, {})
    for i in found:
        mine, values = targets[i.indicator_id], measured[i.indicator_id]
        progress = progress_in(i, mine, values, fiscal_year, as_of)
        figures.by_node.setdefault(i.objective_id, []).append(
            indicator_figures(i, fiscal_year, mine.get(fiscal_year), latest(values, as_of), progress)
        )
        figures.progress.setdefault(i.objective_id, []).append(progress)
    return figures


async def progress_for_review(conn: asyncpg.Connection, node_ids: list[str], fiscal_year: int) -> dict[str, list[dict]]:
    """For the annual review, inside its transaction: each node's indicators as the year ended."""
    return (await _figures(conn, node_ids, fiscal_year, end_of(fiscal_year))).by_node


@dataclass(frozen=True)
class SubtreeProgress:
    nodes: list[TreeNode]
    figures: Figures
    rolled: dict[str, NodeProgress]


async def subtree_progress(pool: asyncpg.Pool, node_id: str, fiscal_year: int, as_of: date) -> SubtreeProgress:
    # One snapshot: a measurement committed halfway through must not skew the roll-up.
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        nodes = await indicators.subtree(conn, node_id)
        if not nodes:
            raise ObjectiveNotFound(f"no objective {node_id!r}", "objective_id")
        figures = await _figures(conn, [n.node_id for n in nodes], fiscal_year, as_of)
    rolled = roll_up(
        node_id, {n.node_id: n.parent_id for n in nodes}, {n.node_id: n.weight for n in nodes}, figures.progress
    )
    return SubtreeProgress(nodes, figures, rolled)
