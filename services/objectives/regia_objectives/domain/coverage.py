"""Coverage and status of an objective for a fiscal year. Pure rules, integer arithmetic.

Coverage = committed / need. FUNDED at 100 % or more; UNFUNDED when nothing is committed;
AT_RISK below the plan's threshold; PARTIALLY_FUNDED between. An objective that needs
nothing in a year is FUNDED that year: nothing is missing. Comparisons are done on cents
cross-multiplied, never on a rounded percentage, so 79.999 % is AT_RISK at an 80 % threshold.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from regia_shared.events.objectives import CoverageStatus

FULL_BP = 10_000


def status_of(need_cents: int, committed_cents: int, threshold_pct: int) -> CoverageStatus:
    if committed_cents >= need_cents:
        return CoverageStatus.FUNDED
    if committed_cents == 0:
        return CoverageStatus.UNFUNDED
    if committed_cents * 100 < need_cents * threshold_pct:
        return CoverageStatus.AT_RISK
    return CoverageStatus.PARTIALLY_FUNDED


def coverage_bp(need_cents: int, committed_cents: int) -> int:
    """Coverage in basis points, rounded down (10000 = 100 %); may exceed 10000."""
    if need_cents == 0:
        return FULL_BP
    return committed_cents * FULL_BP // need_cents


@dataclass(frozen=True)
class Allocation:
    """One funding line's current amounts, as the projection holds them."""

    level: str
    committed_cents: int
    disbursed_cents: int


@dataclass(frozen=True)
class YearCoverage:
    objective_id: str
    fiscal_year: int
    need_cents: int
    committed_cents: int
    disbursed_cents: int
    committed_by_level: dict[str, int] = field(default_factory=dict)
    coverage_bp: int = 0
    status: CoverageStatus = CoverageStatus.UNFUNDED

    def same_figures(self, other: "YearCoverage | None") -> bool:
        return other is not None and (
            self.need_cents, self.committed_cents, self.disbursed_cents,
            self.committed_by_level, self.status,
        ) == (
            other.need_cents, other.committed_cents, other.disbursed_cents,
            other.committed_by_level, other.status,
        )


def year_coverage(objective_id: str, fiscal_year: int, need_cents: int, threshold_pct: int,
                  allocations: Iterable[Allocation]) -> YearCoverage:
    by_level: dict[str, int] = {}
    committed = disbursed = 0
    for a in allocations:
        committed += a.committed_cents
        disbursed += a.disbursed_cents
        if a.committed_cents:
            by_level[a.level] = by_level.get(a.level, 0) + a.committed_cents
    return YearCoverage(
        objective_id, fiscal_year, need_cents, committed, disbursed, dict(sorted(by_level.items())),
        coverage_bp(need_cents, committed), status_of(need_cents, committed, threshold_pct),
    )
