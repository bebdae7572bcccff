"""Coverage and status of an objective for a fiscal year. Pure rules, integer arithmetic.

Coverage = committed / need. FUNDED at 100 % or more; UNFUNDED when nothing is committed;
AT_RISK below the plan's threshold; PARTIALLY_FUNDED between. A year with no need declared
(need 0) is NO_NEED, never FUNDED: there is nothing to fund, and money committed to it is
over-commitment (`over_committed_cents`), as is money committed above a declared need.
Comparisons are done on cents cross-multiplied, never on a rounded percentage, so 79.999 %
is AT_RISK at an 80 % threshold.

A node's status is decided on its subtree's figures (`roll_up`), but a child's surplus
never hides a sibling's gap: a parent *counts* each child's money only up to that child's
need (`counted_cents`) and reports the rest apart (`surplus_cents`). Its coverage and
status follow the counted money, so a programme with one action funded four times over
and one action with nothing reads AT_RISK, not FUNDED 404 % (issue 18). Money committed to
the parent itself is not any one child's: it counts toward whatever the subtree still
lacks. A child or a year with no need adds nothing to the need (its money is surplus); a
parent whose whole subtree declares no need for the year is NO_NEED itself.

Totals (a node's own money, or its subtree's) are bounded by what an event can carry
(money.MAX_CENTS): a total above it is refused, by name, before anything is stored or
published, rather than failing in the event's validation as an unexplained error.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from regia_shared.contracts.events.objectives import CoverageStatus
from regia_shared.contracts.money import MAX_CENTS
from regia_shared.frozen_init import direct_init

from .errors import TotalTooLarge
from .tree import ancestors

FULL_BP = 10_000
# Coverage in basis points saturates here: 10^14 bp is ten billion per cent, past which a
# larger figure tells nobody anything. Below it the figure is exact; it fits a bigint and
# stays exact in a JSON number read by JavaScript (below 2**53). The status never depends
# on it: it is decided on cents.
MAX_COVERAGE_BP = MAX_CENTS


def status_of(need_cents: int, committed_cents: int, threshold_pct: int) -> CoverageStatus:
    if need_cents == 0:
        return CoverageStatus.NO_NEED
    if committed_cents >= need_cents:
        return CoverageStatus.FUNDED
    if committed_cents == 0:
        return CoverageStatus.UNFUNDED
    if committed_cents * 100 < need_cents * threshold_pct:
        return CoverageStatus.AT_RISK
    return CoverageStatus.PARTIALLY_FUNDED


def coverage_bp(need_cents: int, committed_cents: int) -> int:
    """Coverage in basis points, rounded down (10000 = 100 %); may exceed 10000, up to
    MAX_COVERAGE_BP (a cent of need against €2,150 is 2,150,000,000: no int32 holds it).
    With no need it is 10000 (nothing is missing), whatever is committed: the status,
    NO_NEED, and `over_committed_cents` say the rest."""
    if need_cents == 0:
        return FULL_BP
    return min(committed_cents * FULL_BP // need_cents, MAX_COVERAGE_BP)


def percent(bp: int) -> str:
    """Basis points as a percentage with two decimals ("21500000.00"), in integers: a
    float would round the last digits of a large coverage."""
    return f"{bp // 100}.{bp % 100:02d}"


@direct_init
@dataclass(frozen=True)
class Allocation:
    """One funding line's current amounts, as the projection holds them."""

    level: str
    committed_cents: int
    disbursed_cents: int
    history_cents: int = 0  # the part of committed_cents on history lines


@direct_init
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
    dominant_level: str | None = None  # set while one level holds more than the plan's share
    # Set on a node whose figures include children (see roll_up): the money that counts
    # toward its need, each child's capped at that child's need. None on a leaf, where all
    # committed money counts (up to the need, as over_committed_cents says).
    counted_cents: int | None = None
    # The part of committed_cents that funding recorded as history (money of a closed year,
    # issue 19): counted like any money, shown apart, never the cause of an alert.
    history_cents: int = 0

    @property
    def over_committed_cents(self) -> int:
        """Money committed beyond the need: all of it in a year with no need declared."""
        return max(self.committed_cents - self.need_cents, 0)

    @property
    def effective_cents(self) -> int:
        """The money coverage and status are decided on: the counted money of a parent,
        the committed money of a leaf."""
        return self.committed_cents if self.counted_cents is None else self.counted_cents

    @property
    def surplus_cents(self) -> int | None:
        """A parent's money that does not count toward its need (None on a leaf)."""
        return None if self.counted_cents is None else self.committed_cents - self.counted_cents

    def same_figures(self, other: "YearCoverage | None") -> bool:
        return other is not None and (
            self.need_cents,
            self.committed_cents,
            self.disbursed_cents,
            self.committed_by_level,
            self.status,
            self.counted_cents,
            self.history_cents,
        ) == (
            other.need_cents,
            other.committed_cents,
            other.disbursed_cents,
            other.committed_by_level,
            other.status,
            other.counted_cents,
            other.history_cents,
        )


def year_coverage(
    objective_id: str, fiscal_year: int, need_cents: int, threshold_pct: int, allocations: Iterable[Allocation]
) -> YearCoverage:
    by_level: dict[str, int] = {}
    committed = disbursed = history = 0
    for a in allocations:
        committed += a.committed_cents
        disbursed += a.disbursed_cents
        history += a.history_cents
        if a.committed_cents:
            by_level[a.level] = by_level.get(a.level, 0) + a.committed_cents
    return YearCoverage(
        objective_id,
        fiscal_year,
        need_cents,
        committed,
        disbursed,
        dict(sorted(by_level.items())),
        coverage_bp(need_cents, committed),
        status_of(need_cents, committed, threshold_pct),
        history_cents=history,
    )


def roll_up(own: YearCoverage, children: Iterable[YearCoverage], threshold_pct: int) -> YearCoverage:
    """A node's figures for a year: its own need and money plus its children's (each child
    already holding its own subtree), so a programme shows all its objectives' money.

    committed_cents stays the plain sum (the money reconciles with the ledger); what
    counts toward the need is each child's effective money capped at the child's need,
    plus the node's own money, the whole capped at the node's need. Coverage and status
    follow the counted money. With no child figures for the year the node is a leaf: its
    own figures, status recomputed at the threshold."""
    children = list(children)
    if not children:  # a leaf for this year: its own figures, status recomputed
        return replace(
            own,
            coverage_bp=coverage_bp(own.need_cents, own.committed_cents),
            status=status_of(own.need_cents, own.committed_cents, threshold_pct),
            counted_cents=None,
        )
    need, committed, disbursed = own.need_cents, own.committed_cents, own.disbursed_cents
    history = own.history_cents
    counted_below = 0
    by_level = dict(own.committed_by_level)
    for child in children:
        need += child.need_cents
        committed += child.committed_cents
        disbursed += child.disbursed_cents
        history += child.history_cents
        counted_below += min(child.effective_cents, child.need_cents)
        for level, cents in child.committed_by_level.items():
            by_level[level] = by_level.get(level, 0) + cents
    counted = min(counted_below + own.committed_cents, need)
    return YearCoverage(
        own.objective_id,
        own.fiscal_year,
        need,
        committed,
        disbursed,
        dict(sorted(by_level.items())),
        coverage_bp(need, counted),
        status_of(need, counted, threshold_pct),
        counted_cents=counted,
        history_cents=history,
    )


def gap_to_threshold_cents(need_cents: int, effective_cents: int, threshold_pct: int) -> int:
    """What it would take to leave AT_RISK: the money that brings coverage to the
    threshold (rounded up to the cent, so adding it is always enough), 0 once reached."""
    target = -(-need_cents * threshold_pct // 100)
    return max(target - effective_cents, 0)


def gap_to_full_cents(need_cents: int, effective_cents: int) -> int:
    """What it would take to reach 100 %, 0 once reached."""
    return max(need_cents - effective_cents, 0)


def within_bounds(coverage: YearCoverage) -> YearCoverage:
    """The figures unchanged, or TotalTooLarge naming the first total above MAX_CENTS.

    Each amount the APIs and the ledger accept is at most MAX_CENTS, but a node adds up
    its lines and its subtree: two needs, or two lines, of €600 billion make a total no
    coverage event may carry. The request that would make it gets a 422 naming the field;
    a funding event that would make it is set aside by its consumer with this message."""
    for field_name, cents in (
        ("need_cents", coverage.need_cents),
        ("committed_cents", coverage.committed_cents),
        ("disbursed_cents", coverage.disbursed_cents),
    ):
        if cents > MAX_CENTS:
            raise TotalTooLarge(
                f"{field_name}: {coverage.objective_id!r} would total {cents} cents in "
                f"{coverage.fiscal_year} (with its subtree), above the {MAX_CENTS} a total may be",
                field_name,
            )
    return coverage


def dominant_level(coverage: YearCoverage, warning_pct: int) -> tuple[str, int] | None:
    """The level that holds more than `warning_pct` % of the committed money, with its share
    in basis points; None when the money is spread enough (or there is none)."""
    if coverage.committed_cents == 0 or not coverage.committed_by_level:
        return None
    level, cents = max(coverage.committed_by_level.items(), key=lambda item: (item[1], item[0]))
    share_bp = cents * FULL_BP // coverage.committed_cents
    return (level, share_bp) if share_bp * 100 > warning_pct * FULL_BP else None


def funding_levels(coverage: YearCoverage) -> list[str]:
    """The levels that have money committed to the year, in order."""
    return sorted(level for level, cents in coverage.committed_by_level.items() if cents > 0)


def narrowed_to_one_level(before: YearCoverage | None, now: YearCoverage) -> str | None:
    """The level an objective-year's money has just come to depend on alone: the year's
    committed money came from two or more levels of government before, and all of it
    comes from one now. None otherwise: a year's first coverage (it did not narrow, it
    started that way, and a plan loaded with single-funder years would be a flood), money
    that was already from one level (moving from one sole level to another is a new funder
    taking over, not a narrowing), money still spread, or no money left at all (a year
    that lost everything is a funding drop and a status change, not a dependency)."""
    if before is None or len(funding_levels(before)) < 2:
        return None
    levels = funding_levels(now)
    return levels[0] if len(levels) == 1 else None


def tree_coverage(
    parent_of: Mapping[str, str | None],
    thresholds: Mapping[str, int],
    needs: Mapping[tuple[str, int], int],
    money: Mapping[tuple[str, int], Sequence[Allocation]],
) -> dict[tuple[str, int], YearCoverage]:
    """Every node-year's figures from needs and money alone, rolled up deepest first, as
    the projection computes them one change at a time: the same rules read back over a
    history (coverage as of a date). A node-year with no need, no money and no child
    figures has none, as in the projection (nothing to tell anyone about)."""
    depth = {node: len(ancestors(node, parent_of)) for node in parent_of}
    children: dict[str, list[str]] = {}
    for node, parent in parent_of.items():
        if parent is not None and parent in parent_of:
            children.setdefault(parent, []).append(node)
    years = sorted({y for _, y in needs} | {y for _, y in money})
    found: dict[tuple[str, int], YearCoverage] = {}
    for node in sorted(parent_of, key=lambda n: (-depth[n], n)):
        for year in years:
            own = year_coverage(node, year, needs.get((node, year), 0), thresholds[node], money.get((node, year), []))
            below = [found[(c, year)] for c in children.get(node, []) if (c, year) in found]
            now = roll_up(own, below, thresholds[node])
            if below or now.need_cents or now.committed_cents or now.disbursed_cents:
                found[(node, year)] = now
    return found
