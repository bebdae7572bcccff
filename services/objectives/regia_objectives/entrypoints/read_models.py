"""Typed response models of the objectives' reads, so OpenAPI shows every answer's shape
(the console codes against these names: docs/api.md)."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class LastChange(BaseModel):
    """The line change that last moved the figures (for a parent: in its subtree)."""

    at: datetime
    line_id: str
    institution_id: str
    level: str
    kind: str = Field(
        description="The funding event type: FundingCommitted, FundingRevised, ... (BACKFILL: recorded at upgrade)"
    )
    delta_cents: int = Field(description="The line's commitment after minus before")
    committed_before_cents: int
    committed_after_cents: int
    reason: str | None
    correlation_id: str | None


class InstitutionFigures(BaseModel):
    institution_id: str
    level: str
    committed_cents: int
    disbursed_cents: int
    line_count: int


class YearFigures(BaseModel):
    fiscal_year: int
    need_cents: int
    committed_cents: int = Field(description="All money committed (the subtree's, for a parent)")
    counted_cents: int = Field(
        description="What counts toward the need: each child's money capped at the child's need (leaf: up to the need)"
    )
    surplus_cents: int = Field(description="committed_cents - counted_cents: money beyond the needs it was given to")
    disbursed_cents: int
    committed_by_level: dict[str, int]
    line_count: int
    coverage_bp: int = Field(description="counted (parent) or committed (leaf) / need, in basis points")
    coverage_pct: str
    status: str
    status_since: datetime | None = Field(description="When the status last changed; null if before it was recorded")
    gap_to_threshold_cents: int = Field(
        description="Money that would bring coverage to the at-risk threshold; 0 if reached"
    )
    gap_to_full_cents: int = Field(description="Money that would bring coverage to 100 %; 0 if reached")
    over_committed_cents: int
    history_cents: int = Field(
        default=0,
        description="The part of committed_cents recorded as history: money of a closed year, never alerted on",
    )
    single_level_dependency: str | None
    last_change: LastChange | None


class YearDocument(YearFigures):
    by_institution: list[InstitutionFigures] = Field(description="Committed money first")


class ObjectiveDocument(BaseModel):
    objective_id: str
    title: str
    plan_id: str | None
    parent_id: str | None
    kind: str
    children: list[str]
    lead: str | None
    weight: int
    illustrative: bool
    at_risk_threshold_pct: int
    as_of: datetime | None = Field(description="The moment the figures are as of; null: now")
    years: list[YearDocument]


class ObjectiveItem(BaseModel):
    objective_id: str
    title: str
    plan_id: str | None
    kind: str
    lead: str | None
    at_risk_threshold_pct: int
    years: list[YearFigures]


class ChangeItem(BaseModel):
    at: datetime
    line_id: str
    institution_id: str
    level: str
    fiscal_year: int
    kind: str
    delta_cents: int
    committed_before_cents: int
    committed_after_cents: int
    disbursed_after_cents: int
    reason: str | None
    correlation_id: str | None
    line_version: int


class TreeYear(BaseModel):
    """A plan tree row's figures for one year (no history fields: 3,000 rows stay light)."""

    fiscal_year: int
    need_cents: int
    committed_cents: int
    counted_cents: int
    surplus_cents: int
    disbursed_cents: int
    committed_by_level: dict[str, int]
    coverage_bp: int
    coverage_pct: str
    status: str
    gap_to_threshold_cents: int
    gap_to_full_cents: int
    over_committed_cents: int
    history_cents: int = Field(
        default=0,
        description="The part of committed_cents recorded as history: money of a closed year, never alerted on",
    )
    single_level_dependency: str | None


class TreeRow(BaseModel):
    node_id: str
    kind: str
    title: str
    weight: int
    lead: str | None
    illustrative: bool
    matches: bool = Field(description="False: kept only because a descendant matches the filters")
    needs: dict[str, int]
    years: list[TreeYear]
    children: list["TreeRow"]


class PlanSummary(BaseModel):
    plan_id: str
    title: str
    territory: str
    population: int | None
    first_year: int
    last_year: int
    at_risk_threshold_pct: int
    single_level_warning_pct: int
    description: str | None


class PlanDocument(PlanSummary):
    """A plan as listed, with its figures per year and its tree."""

    as_of: datetime | None
    years: list[TreeYear]
    nodes: list[TreeRow]


class PlanImported(BaseModel):
    plan_id: str
    created: int
    updated: int
    unchanged: int
    removed: int


class NodeCreated(BaseModel):
    plan_id: str
    node_id: str
    created: int


class NodeUpdated(BaseModel):
    plan_id: str
    node_id: str
    updated: int


class CoverageRebuilt(BaseModel):
    objective_years: int
    lines: int
    events_published: int
    seconds: float
    from_scratch: bool


class ReviewTotals(BaseModel):
    need_cents: int
    committed_cents: int
    disbursed_cents: int
    history_cents: int = Field(default=0, description="The part of committed_cents recorded as history (closed years)")
    coverage_bp: int
    nodes_by_status: dict[str, int]


class ReviewClosed(ReviewTotals):
    plan_id: str
    fiscal_year: int


class ReviewNode(BaseModel):
    node_id: str
    parent_id: str | None
    kind: str
    title: str
    need_cents: int
    committed_cents: int
    disbursed_cents: int
    history_cents: int = Field(default=0, description="The part of committed_cents recorded as history (closed years)")
    committed_by_level: dict[str, int]
    coverage_bp: int
    status: str
    indicators: list[dict[str, Any]] = Field(description="Each indicator against the year's target, as frozen")


class ReviewDocument(BaseModel):
    plan_id: str
    fiscal_year: int
    totals: ReviewTotals
    nodes: list[ReviewNode]


class ComparedTotals(BaseModel):
    from_: ReviewTotals = Field(alias="from")
    to: ReviewTotals


class ComparedNode(BaseModel):
    node_id: str
    title: str
    kind: str
    need_delta_cents: int
    committed_delta_cents: int
    disbursed_delta_cents: int
    coverage_bp: list[int | None] = Field(description="[earlier, later]; null where the node was not in that review")
    status: list[str | None] = Field(description="[earlier, later]")
    status_changed: bool


class ReviewComparison(BaseModel):
    plan_id: str
    from_: int = Field(alias="from")
    to: int
    totals: ComparedTotals
    nodes: list[ComparedNode]


class Baseline(BaseModel):
    value: str = Field(description="Exact decimal, as text")
    year: int


class Measured(BaseModel):
    measured_on: date
    value: str
    source: str | None
    comment: str | None


class ProgressFigures(BaseModel):
    raw: str | None = Field(description="Exact decimal share of the way from baseline to target")
    clamped: str | None
    reason: str | None = Field(description="Why progress is undefined, when it is")


class TargetAgainst(BaseModel):
    fiscal_year: int
    value: str | None
    as_of: date
    actual: Measured | None
    progress: ProgressFigures


class IndicatorDocument(BaseModel):
    indicator_id: str
    objective_id: str
    name: str
    unit: str
    direction: str
    description: str | None
    baseline: Baseline
    targets: list[TargetAgainst]
    measurements: list[Measured]


class IndicatorFigures(BaseModel):
    indicator_id: str
    objective_id: str
    name: str
    unit: str
    direction: str
    baseline: Baseline
    fiscal_year: int
    target: str | None
    actual: Measured | None
    progress: ProgressFigures


class ProgressNode(BaseModel):
    objective_id: str
    title: str
    kind: str
    weight: int
    progress: ProgressFigures
    indicators_counted: int
    indicators_left_out: int
    children_counted: int
    children_left_out: int
    indicators: list[IndicatorFigures]
    children: list["ProgressNode"]


class ProgressDocument(ProgressNode):
    fiscal_year: int
    as_of: date


class MilestoneDocument(BaseModel):
    milestone_id: str
    objective_id: str
    title: str
    description: str | None
    due_on: date
    reached_on: date | None
    status: str
    as_of: date


class SummaryYear(BaseModel):
    fiscal_year: int
    need_cents: int = Field(description="The top-level nodes' need (standalone objectives and plan roots)")
    committed_cents: int
    counted_cents: int = Field(description="Of the committed money, what counts toward the needs")
    disbursed_cents: int
    committed_by_level: dict[str, int] = Field(description="Every level of government, 0 where none")
    counts: dict[str, int] = Field(description="Objective-years (every node) by status; every status, 0 where none")


class Summary(BaseModel):
    fiscal_years: list[int] = Field(description="Every year with figures in scope, whatever fiscal_year says")
    fiscal_year: int | None
    objectives: int = Field(
        description="With fiscal_year: the objectives with figures that year; without: every objective in scope"
    )
    counts: dict[str, int] = Field(description="Objective-years by status over the years chosen")
    need_cents: int
    committed_cents: int
    counted_cents: int
    disbursed_cents: int
    committed_by_level: dict[str, int]
    by_year: list[SummaryYear]
