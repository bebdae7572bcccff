"""What happened, as the notifier's rules see it. Pure.

Each occurrence is read from one event (a status change, a revoked line, a closed review)
or, for a funding drop, from one event compared with what the notifier last knew. Rules
match on `trigger`; messages are rendered from the fields.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from regia_shared.contracts.events.objectives import CoverageStatus

from .causes import FundingCause
from .coverage_gap import Gap, gap


class Trigger(StrEnum):
    STATUS_CHANGED = "status_changed"
    FUNDING_DROPPED = "funding_dropped"
    LINE_REVOKED = "line_revoked"
    REVIEW_CLOSED = "review_closed"
    SINGLE_LEVEL_DEPENDENCY = "single_level_dependency"
    MILESTONE_OVERDUE = "milestone_overdue"
    INDICATOR_BEHIND = "indicator_behind"


@dataclass(frozen=True)
class PlanNode:
    """One node of a plan on the way from its root to an objective, as the notifier last
    heard it defined."""

    objective_id: str
    title: str
    kind: str | None  # VISION, PROGRAMME, OBJECTIVE or ACTION


# Worst first: a move to a lower rank is a worsening.
_RANK = {
    CoverageStatus.UNFUNDED: 0,
    CoverageStatus.AT_RISK: 1,
    CoverageStatus.PARTIALLY_FUNDED: 2,
    CoverageStatus.FUNDED: 3,
    # Nothing to fund is nothing to warn about: a move to it is never a worsening.
    CoverageStatus.NO_NEED: 3,
}


def worsens(before: CoverageStatus | None, after: CoverageStatus) -> bool:
    """Whether a move from `before` to `after` is a worsening (a first status is not)."""
    return before is not None and _RANK[after] < _RANK[before]


@dataclass(frozen=True)
class StatusChange:
    objective_id: str
    title: str
    fiscal_year: int
    previous_status: CoverageStatus | None
    status: CoverageStatus
    coverage_bp: int
    need_cents: int
    committed_cents: int
    at_risk_threshold_pct: int
    # The story around it, as far as the notifier knows it (see occurrence_lookup.situate):
    # the committed money by level of government (None: not known for this amount), the
    # plan's nodes from its root to the objective itself, and the objective's console page.
    committed_by_level: dict[str, int] | None = None
    path: tuple[PlanNode, ...] = ()
    console_url: str | None = None
    # The funding events behind it (who acted, on which line, why), found by the event's
    # correlation id: empty when there is none (a need edited by hand) or the funding event
    # has not reached the notifier yet (another topic: no order between the two).
    causes: tuple[FundingCause, ...] = ()
    trigger = Trigger.STATUS_CHANGED

    @property
    def gap(self) -> Gap | None:
        return gap(self.need_cents, self.committed_cents, self.at_risk_threshold_pct)

    @property
    def first(self) -> bool:
        """The year's first status: it was just created or imported. Not a change anyone
        acts on (a plan loaded with 84 unfunded years would otherwise be 84 alerts)."""
        return self.previous_status is None

    @property
    def worsened(self) -> bool:
        return worsens(self.previous_status, self.status)

    @property
    def objective_ids(self) -> tuple[str, ...]:
        return (self.objective_id,)


@dataclass(frozen=True)
class FundingDrop:
    objective_id: str
    title: str
    fiscal_year: int
    before_cents: int
    after_cents: int
    need_cents: int
    coverage_bp: int
    status: CoverageStatus
    # The story around it, as for a StatusChange; the threshold is the objective's, as
    # last defined (None: not known).
    at_risk_threshold_pct: int | None = None
    committed_by_level: dict[str, int] | None = None
    path: tuple[PlanNode, ...] = ()
    console_url: str | None = None
    causes: tuple[FundingCause, ...] = ()  # as for a StatusChange
    trigger = Trigger.FUNDING_DROPPED

    @property
    def gap(self) -> Gap | None:
        return gap(self.need_cents, self.after_cents, self.at_risk_threshold_pct)

    @property
    def drop_bp(self) -> int:
        """The drop as a share of what was committed, in basis points (rounded down)."""
        if self.before_cents <= 0 or self.after_cents >= self.before_cents:
            return 0
        return (self.before_cents - self.after_cents) * 10_000 // self.before_cents

    def drops_more_than(self, pct: int) -> bool:
        # Exact, in integers: drop_bp is rounded down and would miss 10.004 % > 10 %.
        return (self.before_cents - self.after_cents) * 100 > pct * self.before_cents

    @property
    def objective_ids(self) -> tuple[str, ...]:
        return (self.objective_id,)


@dataclass(frozen=True)
class LineRevoked:
    line_id: str
    objective_id: str
    objective_title: str | None  # None if the notifier has not seen the objective defined
    institution_id: str
    institution_name: str | None
    fiscal_year: int
    revoked_cents: int  # the commitment the revocation removed
    reason: str | None
    trigger = Trigger.LINE_REVOKED

    @property
    def objective_ids(self) -> tuple[str, ...]:
        return (self.objective_id,)


@dataclass(frozen=True)
class ReviewClosed:
    plan_id: str
    plan_title: str | None
    fiscal_year: int
    need_cents: int
    committed_cents: int
    disbursed_cents: int
    coverage_bp: int
    nodes_by_status: dict[str, int]
    objective_ids: tuple[str, ...]  # the plan's nodes, as far as the notifier knows them
    trigger = Trigger.REVIEW_CLOSED


@dataclass(frozen=True)
class YearState:
    fiscal_year: int
    status: CoverageStatus
    coverage_bp: int
    need_cents: int
    committed_cents: int
    committed_by_level: dict[str, int] | None = None  # None: not known for this amount


@dataclass(frozen=True)
class CurrentState:
    """What a lead assigned after the objective's statuses were known is told once: the
    years of the budget window that are not funded. Its statuses are what a contact who
    wants `status_changed` alerts hears of, so it follows those preferences."""

    objective_id: str
    title: str
    years: tuple[YearState, ...]
    at_risk_threshold_pct: int | None = None  # as last defined; None: not known
    path: tuple[PlanNode, ...] = ()
    console_url: str | None = None
    trigger = Trigger.STATUS_CHANGED
    alert = "current_state"

    def gap(self, year: YearState) -> Gap | None:
        return gap(year.need_cents, year.committed_cents, self.at_risk_threshold_pct)

    @property
    def objective_ids(self) -> tuple[str, ...]:
        return (self.objective_id,)


@dataclass(frozen=True)
class SingleLevelDependency:
    """An objective-year's committed money came to depend on one level of government only,
    where it came from two or more (FundingNarrowedToOneLevel: the objectives service
    decides the transition, with the coverage change that made it)."""

    objective_id: str
    title: str
    fiscal_year: int
    level: str
    committed_cents: int  # all of it from `level`
    previous_committed_by_level: dict[str, int]
    need_cents: int
    coverage_bp: int
    status: CoverageStatus
    at_risk_threshold_pct: int
    path: tuple[PlanNode, ...] = ()
    console_url: str | None = None
    trigger = Trigger.SINGLE_LEVEL_DEPENDENCY

    @property
    def gap(self) -> Gap | None:
        return gap(self.need_cents, self.committed_cents, self.at_risk_threshold_pct)

    @property
    def objective_ids(self) -> tuple[str, ...]:
        return (self.objective_id,)


@dataclass(frozen=True)
class MilestoneOverdue:
    """A milestone was not reached by its due date (MilestoneWentOverdue, announced once
    per due date by the objectives service). Its year is the due date's."""

    objective_id: str
    objective_title: str | None  # None if the notifier has not seen the objective defined
    milestone_id: str
    title: str
    fiscal_year: int
    due_on: date
    noticed_on: date
    path: tuple[PlanNode, ...] = ()
    console_url: str | None = None
    trigger = Trigger.MILESTONE_OVERDUE

    @property
    def objective_ids(self) -> tuple[str, ...]:
        return (self.objective_id,)


@dataclass(frozen=True)
class IndicatorBehind:
    """A measurement put an indicator behind its target path where the value before it was
    on track, or there was none (IndicatorFellBehind). Values are exact decimals, as the
    event writes them."""

    objective_id: str
    objective_title: str | None
    indicator_id: str
    name: str
    unit: str
    direction: str  # INCREASING or DECREASING: which way is better
    fiscal_year: int
    measured_on: date
    value: str
    expected_value: str  # where the path expects it on measured_on
    target_value: str
    baseline_value: str
    baseline_year: int
    progress: str  # share of the way from baseline to target, raw
    expected_progress: str  # share the path expects by measured_on
    previous_measured_on: date | None
    previous_value: str | None
    path: tuple[PlanNode, ...] = ()
    console_url: str | None = None
    trigger = Trigger.INDICATOR_BEHIND

    @property
    def objective_ids(self) -> tuple[str, ...]:
        return (self.objective_id,)


Occurrence = (
    StatusChange
    | FundingDrop
    | LineRevoked
    | ReviewClosed
    | CurrentState
    | SingleLevelDependency
    | MilestoneOverdue
    | IndicatorBehind
)


def first_alerting_year(window_first_year: int, last_closed_year: int | None) -> int:
    """The first fiscal year of the budget window as the notifier knows it: the configured
    first year, moved past every year an annual review has closed."""
    return window_first_year if last_closed_year is None else max(window_first_year, last_closed_year + 1)


def silenced(occurrence: Occurrence, first_year: int) -> str | None:
    """Why an occurrence is no alert at all, whatever the rules say; None if it may be.
    A year's first status is not a change; a year before the budget window is history (its
    money, or an indicator measured against its target). A milestone's going overdue is
    announced the day after its due date whatever year that was, so no window holds it."""
    if isinstance(occurrence, StatusChange) and occurrence.first:
        return "the year's first status"
    if (
        isinstance(occurrence, StatusChange | FundingDrop | SingleLevelDependency | IndicatorBehind)
        and occurrence.fiscal_year < first_year
    ):
        return "a year before the budget window"
    return None


def current_state(objective_id: str, title: str, years: list[YearState], first_year: int) -> CurrentState | None:
    """The state a newly assigned lead is told: the years from `first_year` on that are not
    funded, in order; None when there is none (nothing to act on)."""
    open_years = sorted(
        (y for y in years if y.fiscal_year >= first_year and y.status is not CoverageStatus.FUNDED),
        key=lambda y: y.fiscal_year,
    )
    return CurrentState(objective_id, title, tuple(open_years)) if open_years else None


def alert_name(occurrence: Occurrence) -> str:
    """What a delivery and a webhook call name the alert: its trigger, or for the state a
    new lead is told, `current_state`."""
    return occurrence.alert if isinstance(occurrence, CurrentState) else occurrence.trigger.value
