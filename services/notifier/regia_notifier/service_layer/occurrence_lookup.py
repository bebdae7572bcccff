"""From an event to the occurrence the rules look at, completing it from the notifier's
projections (a title, a name, the nodes of a plan, the amount committed before), and an
objective-year's occurrence with its story (its place in the plan, the committed money
by level, its threshold, its console page)."""

import dataclasses
from collections.abc import Sequence

import asyncpg

from regia_shared.contracts.events.envelope import EventPayload
from regia_shared.contracts.events.funding import FundingRevoked
from regia_shared.contracts.events.objectives import (
    FundingNarrowedToOneLevel,
    IndicatorFellBehind,
    MilestoneWentOverdue,
    ObjectiveCoverageChanged,
    ObjectiveStatusChanged,
)
from regia_shared.contracts.events.plans import AnnualReviewClosed

from ..adapters import directory, objectives_seen
from ..domain.console_links import objective_page
from ..domain.occurrences import (
    CurrentState,
    FundingDrop,
    IndicatorBehind,
    LineRevoked,
    MilestoneOverdue,
    Occurrence,
    ReviewClosed,
    SingleLevelDependency,
    StatusChange,
    YearState,
)


async def occurrence_of(
    conn: asyncpg.Connection, payload: EventPayload, committed_before: int | None = None
) -> Occurrence | None:
    """The occurrence an event amounts to, or None (a coverage change that is no drop).
    A coverage change is measured against `committed_before`, the amount it replaced,
    which the caller recorded for the whole batch (`objectives_seen.swap_committed`)."""
    match payload:
        case ObjectiveStatusChanged():
            return StatusChange(
                payload.objective_id,
                payload.title,
                payload.fiscal_year,
                payload.previous_status,
                payload.status,
                payload.coverage_bp,
                payload.need_cents,
                payload.committed_cents,
                payload.at_risk_threshold_pct,
            )
        case ObjectiveCoverageChanged():
            before = committed_before
            if before is None or payload.committed_cents >= before:
                return None
            return FundingDrop(
                payload.objective_id,
                payload.title,
                payload.fiscal_year,
                before,
                payload.committed_cents,
                payload.need_cents,
                payload.coverage_bp,
                payload.status,
            )
        case FundingRevoked():
            return LineRevoked(
                payload.line_id,
                payload.objective_id,
                await objectives_seen.title_of(conn, payload.objective_id),
                payload.institution_id,
                await directory.partner_name(conn, payload.institution_id),
                payload.fiscal_year,
                max(0, -payload.delta_cents),
                payload.reason,
            )
        case AnnualReviewClosed():
            return ReviewClosed(
                payload.plan_id,
                await objectives_seen.title_of(conn, payload.plan_id),
                payload.fiscal_year,
                payload.need_cents,
                payload.committed_cents,
                payload.disbursed_cents,
                payload.coverage_bp,
                dict(payload.nodes_by_status),
                await objectives_seen.of_plan(conn, payload.plan_id),
            )
        case FundingNarrowedToOneLevel():
            return SingleLevelDependency(
                payload.objective_id,
                payload.title,
                payload.fiscal_year,
                payload.level,
                payload.committed_cents,
                dict(payload.previous_committed_by_level),
                payload.need_cents,
                payload.coverage_bp,
                payload.status,
                payload.at_risk_threshold_pct,
            )
        case MilestoneWentOverdue():
            return MilestoneOverdue(
                payload.objective_id,
                await objectives_seen.title_of(conn, payload.objective_id),
                payload.milestone_id,
                payload.title,
                payload.due_on.year,
                payload.due_on,
                payload.noticed_on,
            )
        case IndicatorFellBehind():
            return IndicatorBehind(
                payload.objective_id,
                await objectives_seen.title_of(conn, payload.objective_id),
                payload.indicator_id,
                payload.name,
                payload.unit,
                payload.direction,
                payload.fiscal_year,
                payload.measured_on,
                payload.value,
                payload.expected_value,
                payload.target_value,
                payload.baseline_value,
                payload.baseline_year,
                payload.progress,
                payload.expected_progress,
                payload.previous_measured_on,
                payload.previous_value,
            )
    return None


# Occurrences told with their place in the plan and their console page only.
_Placed = SingleLevelDependency | MilestoneOverdue | IndicatorBehind


async def situate(conn: asyncpg.Connection, occurrences: Sequence[Occurrence], console_url: str) -> list[Occurrence]:
    """Each objective-year occurrence (a status change, a funding drop, a current state)
    with its story, read for the whole batch in three statements: the plan's nodes from its
    root to the objective, the threshold (a drop's event lacks it), the committed money by
    level, and the link to the objective's console page. The split by level is the one of
    the year's last coverage event, told only when it adds up to the amount the alert
    states (an event of another amount would make it someone else's story). A single-level
    dependency, an overdue milestone and an indicator behind get their place in the plan
    and the console page: their events carry the figures they state."""
    about = [o for o in occurrences if isinstance(o, StatusChange | FundingDrop | CurrentState | _Placed)]
    if not about:
        return list(occurrences)
    ids = {o.objective_id for o in about}
    paths = await objectives_seen.paths_of(conn, ids)
    thresholds = await objectives_seen.thresholds_of(conn, ids)
    keys = [(o.objective_id, y.fiscal_year) for o in about if not isinstance(o, _Placed) for y in _years(o)]
    levels = await objectives_seen.levels_of(conn, keys)

    def split(objective_id: str, year: int, committed: int) -> dict[str, int] | None:
        known = levels.get((objective_id, year))
        return known[1] if known is not None and known[0] == committed == sum(known[1].values()) else None

    def story(o: Occurrence) -> Occurrence:
        match o:
            case StatusChange():
                return dataclasses.replace(
                    o,
                    committed_by_level=split(o.objective_id, o.fiscal_year, o.committed_cents),
                    path=paths.get(o.objective_id, ()),
                    console_url=objective_page(console_url, o.objective_id),
                )
            case FundingDrop():
                return dataclasses.replace(
                    o,
                    at_risk_threshold_pct=thresholds.get(o.objective_id),
                    committed_by_level=split(o.objective_id, o.fiscal_year, o.after_cents),
                    path=paths.get(o.objective_id, ()),
                    console_url=objective_page(console_url, o.objective_id),
                )
            case CurrentState():
                years = tuple(
                    dataclasses.replace(y, committed_by_level=split(o.objective_id, y.fiscal_year, y.committed_cents))
                    for y in o.years
                )
                return dataclasses.replace(
                    o,
                    years=years,
                    at_risk_threshold_pct=thresholds.get(o.objective_id),
                    path=paths.get(o.objective_id, ()),
                    console_url=objective_page(console_url, o.objective_id),
                )
            case SingleLevelDependency() | MilestoneOverdue() | IndicatorBehind():
                return dataclasses.replace(
                    o, path=paths.get(o.objective_id, ()), console_url=objective_page(console_url, o.objective_id)
                )
        return o

    return [story(o) for o in occurrences]


def _years(o: StatusChange | FundingDrop | CurrentState) -> Sequence[StatusChange | FundingDrop | YearState]:
    return o.years if isinstance(o, CurrentState) else (o,)
