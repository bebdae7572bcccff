"""Coverage events as the objectives service publishes them, for the notifier's tests: one
objective-year's money, with its coverage worked out from the need as objectives does."""

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import CoverageStatus, ObjectiveCoverageChanged


def coverage_changed(
    committed: int,
    *,
    objective_id: str = "miglio-blu",
    title: str = "Miglio Blu",
    fiscal_year: int = 2027,
    need_cents: int = 1_000_000_00,
    status: CoverageStatus = CoverageStatus.PARTIALLY_FUNDED,
    by_level: dict[str, int] | None = None,
) -> Envelope:
    """`committed` cents for the year, all of it from the Regione unless `by_level` says
    otherwise; keyed by the objective, as objectives keys it."""
    payload = ObjectiveCoverageChanged(
        objective_id=objective_id,
        title=title,
        fiscal_year=fiscal_year,
        need_cents=need_cents,
        committed_cents=committed,
        disbursed_cents=0,
        committed_by_level={"REGIONE": committed} if by_level is None else by_level,
        coverage_bp=committed * 10_000 // need_cents,
        status=status,
    )
    return Envelope.wrap(payload, key=objective_id, producer="objectives")
