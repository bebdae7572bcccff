"""From an event to the occurrence the rules look at, completing it from the notifier's
projections (a title, a name, the nodes of a plan, the amount committed before)."""

import asyncpg

from regia_shared.contracts.events.envelope import EventPayload
from regia_shared.contracts.events.funding import FundingRevoked
from regia_shared.contracts.events.objectives import ObjectiveCoverageChanged, ObjectiveStatusChanged
from regia_shared.contracts.events.plans import AnnualReviewClosed

from ..adapters import directory, objectives_seen
from ..domain.occurrences import FundingDrop, LineRevoked, Occurrence, ReviewClosed, StatusChange


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
    return None
