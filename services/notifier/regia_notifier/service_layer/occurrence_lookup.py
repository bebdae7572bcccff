"""From an event to the occurrence the rules look at, completing it from the notifier's
projections (a title, a name, the nodes of a plan, the amount committed before), and an
objective-year's occurrence with its story (the funding events behind it, its place in the
plan, the committed money by level, its threshold, its console page)."""

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

from ..adapters import directory, funding_causes, objectives_seen
from ..domain.causes import FundingCause, concerning
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
    which the caller recorded for the whole batch (`objectives_seen.swapped`)."""
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


async def situate(
    conn: asyncpg.Connection,
    occurrences: Sequence[Occurrence],
    console_url: str,
    correlation_ids: Sequence[str | None] | None = None,
) -> list[Occurrence]:
    """Each objective-year occurrence (a status change, a funding drop, a current state)
    with its story, read for the whole batch in six statements at most: the funding events
    behind a status change or a drop (`causes_of`, by `correlation_ids`, the correlation id
    of each occurrence's event, in the same order), the plan's nodes from its root to the
    objective, the threshold (a drop's event lacks it), the committed money by level, and
    the link to the objective's console page. The split by level is the one of the year's
    last coverage event, told only when it adds up to the amount the alert states (an event
    of another amount would make it someone else's story).

    A funding event travels on its own topic, in no order with the objectives events it
    brings about: one that has not reached the notifier yet leaves `causes` empty. Whatever
    composes a message later (a grouping window, a digest) looks them up again then. A
    single-level dependency, an overdue milestone and an indicator behind get their place
    in the plan and the console page: their events carry the figures they state."""
    about = [o for o in occurrences if isinstance(o, StatusChange | FundingDrop | CurrentState | _Placed)]
    if not about:
        return list(occurrences)
    ids = {o.objective_id for o in about}
    correlations = list(correlation_ids) if correlation_ids is not None else [None] * len(occurrences)
    caused = [
        (i, (c, o.objective_id, o.fiscal_year))
        for i, (o, c) in enumerate(zip(occurrences, correlations, strict=True))
        if isinstance(o, StatusChange | FundingDrop) and c is not None
    ]
    causes = dict(zip([i for i, _ in caused], await causes_of(conn, [k for _, k in caused]), strict=True))
    paths = await objectives_seen.paths_of(conn, ids)
    thresholds = await objectives_seen.thresholds_of(conn, ids)
    keys = [(o.objective_id, y.fiscal_year) for o in about if not isinstance(o, _Placed) for y in _years(o)]
    levels = await objectives_seen.levels_of(conn, keys)

    def split(objective_id: str, year: int, committed: int) -> dict[str, int] | None:
        known = levels.get((objective_id, year))
        return known[1] if known is not None and known[0] == committed == sum(known[1].values()) else None

    def story(i: int, o: Occurrence) -> Occurrence:
        match o:
            case StatusChange():
                return dataclasses.replace(
                    o,
                    committed_by_level=split(o.objective_id, o.fiscal_year, o.committed_cents),
                    path=paths.get(o.objective_id, ()),
                    console_url=objective_page(console_url, o.objective_id),
                    causes=causes.get(i, ()),
                )
            case FundingDrop():
                return dataclasses.replace(
                    o,
                    at_risk_threshold_pct=thresholds.get(o.objective_id),
                    committed_by_level=split(o.objective_id, o.fiscal_year, o.after_cents),
                    path=paths.get(o.objective_id, ()),
                    console_url=objective_page(console_url, o.objective_id),
                    causes=causes.get(i, ()),
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

    return [story(i, o) for i, o in enumerate(occurrences)]


async def causes_of(conn: asyncpg.Connection, wanted: Sequence[tuple[str, str, int]]) -> list[tuple[FundingCause, ...]]:
    """For each (correlation id, objective id, fiscal year), the funding events recorded
    under the correlation id that moved that objective-year (`domain.causes.concerning`:
    its year, the objective or a node below it), oldest first; in two statements for all of
    them (the causes, then the plan's nodes above their objectives), one when none is known."""
    by_correlation = await funding_causes.of_correlations(conn, {c for c, _, _ in wanted})
    if not by_correlation:
        return [() for _ in wanted]
    paths = await objectives_seen.paths_of(conn, {c.objective_id for found in by_correlation.values() for c in found})
    lineage = {objective: tuple(node.objective_id for node in nodes) for objective, nodes in paths.items()}
    return [concerning(by_correlation.get(c, ()), objective, year, lineage) for c, objective, year in wanted]


def _years(o: StatusChange | FundingDrop | CurrentState) -> Sequence[StatusChange | FundingDrop | YearState]:
    return o.years if isinstance(o, CurrentState) else (o,)
