"""Events published by the objectives service, keyed by objective: the coverage
projection's (events.routing.ON_COVERAGE_TOPIC) on `regia.objectives.coverage.v1`, the
others on `regia.objectives.v1` (topics.OBJECTIVES_COVERAGE says why they travel apart)."""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from regia_shared.contracts.events.envelope import EventPayload
from regia_shared.contracts.money import Cents


class CoverageStatus(StrEnum):
    FUNDED = "FUNDED"
    PARTIALLY_FUNDED = "PARTIALLY_FUNDED"
    AT_RISK = "AT_RISK"
    UNFUNDED = "UNFUNDED"
    # A year with no need declared (need_cents 0): nothing to fund, so never FUNDED; money
    # committed to it is over-commitment. New in version 2 of the two coverage events.
    NO_NEED = "NO_NEED"


class YearNeed(EventPayload):
    fiscal_year: int = Field(ge=1990, le=2100)
    need_cents: Cents


class ObjectiveDefined(EventPayload):
    objective_id: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=500)
    at_risk_threshold_pct: int = Field(ge=1, le=100)
    needs: list[YearNeed]
    plan_id: str | None = Field(default=None, max_length=100)
    parent_id: str | None = Field(default=None, max_length=100)
    kind: str = Field(default="OBJECTIVE", description="VISION, PROGRAMME, OBJECTIVE or ACTION")


def history_marker() -> bool:
    """The optional marker (issue 19) on an objectives event caused by history funding:
    money of a closed year recorded for the record. Consumers inform with it and never
    alert on it; events published before it existed read as False."""
    return Field(
        default=False,
        description="Caused by history funding (money of a closed year, recorded for the record): never an alert",
    )


class ObjectiveCoverageChanged(EventPayload):
    """Version 2: `status` may be NO_NEED (version 1, in `objectives_v1`, never was)."""

    VERSION = 2

    objective_id: str = Field(min_length=1, max_length=100)
    title: str
    fiscal_year: int = Field(ge=1990, le=2100)
    need_cents: Cents
    committed_cents: Cents
    disbursed_cents: Cents
    committed_by_level: dict[str, Cents]
    coverage_bp: int = Field(
        ge=0, description="Coverage in basis points: 10000 is 100 %; exact up to 10^14, where it saturates"
    )
    status: CoverageStatus
    history: bool = history_marker()


class ObjectiveStatusChanged(EventPayload):
    """Version 2: either status may be NO_NEED (version 1, in `objectives_v1`, never was)."""

    VERSION = 2

    objective_id: str = Field(min_length=1, max_length=100)
    title: str
    fiscal_year: int = Field(ge=1990, le=2100)
    previous_status: CoverageStatus | None
    status: CoverageStatus
    coverage_bp: int = Field(
        ge=0, description="Coverage in basis points: 10000 is 100 %; exact up to 10^14, where it saturates"
    )
    need_cents: Cents
    committed_cents: Cents
    at_risk_threshold_pct: int = Field(ge=1, le=100)
    history: bool = history_marker()


# An exact decimal as a string ("8.5", "-0.25"): consumers parse it to a decimal type, so
# no value of an indicator ever passes through a float on the way.
DecimalString = Annotated[str, Field(pattern=r"^-?\d{1,14}(\.\d{1,6})?$", description="An exact decimal, as a string")]
# A ratio of two such decimals, at six places: far from target it may need more digits.
RatioString = Annotated[
    str, Field(pattern=r"^-?\d{1,24}(\.\d{1,6})?$", description="An exact ratio rounded to 6 places, as a string")
]


class IndicatorMeasured(EventPayload):
    """An actual value of an indicator was recorded; keyed by the node it measures."""

    objective_id: str = Field(min_length=1, max_length=100)
    indicator_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    unit: str = Field(min_length=1, max_length=50)
    direction: Literal["INCREASING", "DECREASING"]
    measured_on: date
    value: DecimalString
    source: str | None = Field(default=None, max_length=300)
    baseline_value: DecimalString
    baseline_year: int = Field(ge=1990, le=2100)
    fiscal_year: int = Field(ge=1990, le=2100, description="The period measured: measured_on's year")
    target_value: DecimalString | None = Field(description="The target for fiscal_year, if any")
    progress: RatioString | None = Field(
        description="(value − baseline) / (target − baseline), raw (not clamped); null when "
        "there is no target for the year or it equals the baseline"
    )


class MilestoneReached(EventPayload):
    """A milestone of a node was marked reached; keyed by the node."""

    objective_id: str = Field(min_length=1, max_length=100)
    milestone_id: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=500)
    due_on: date
    reached_on: date
    days_late: int = Field(ge=0, description="Days after due_on it was reached; 0 if on time")


class FundingNarrowedToOneLevel(EventPayload):
    """An objective-year's committed money, which came from two or more levels of
    government, now comes from one level only: a cut or a revocation there would fall on
    it whole, with no other funder sharing it. Published with the coverage change that
    made it (so in the same transaction), on the transition only: never for a year's first
    coverage, and not again while the money stays with that one level."""

    objective_id: str = Field(min_length=1, max_length=100)
    title: str
    fiscal_year: int = Field(ge=1990, le=2100)
    level: str = Field(min_length=1, max_length=50, description="The one level all the money now comes from")
    committed_cents: Cents = Field(description="Everything committed for the year: all of it from `level`")
    previous_committed_by_level: dict[str, Cents] = Field(
        description="Committed cents by level before the change: two levels or more"
    )
    need_cents: Cents
    coverage_bp: int = Field(
        ge=0, description="Coverage in basis points: 10000 is 100 %; exact up to 10^14, where it saturates"
    )
    status: CoverageStatus
    at_risk_threshold_pct: int = Field(ge=1, le=100)
    history: bool = history_marker()


class MilestoneWentOverdue(EventPayload):
    """A milestone of a node was not reached by its due date. Published once per due date
    a milestone misses, by the objectives service's sweep, on the first day after it; a
    milestone defined already overdue is not announced (that is history being recorded)."""

    objective_id: str = Field(min_length=1, max_length=100)
    milestone_id: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=500)
    due_on: date
    noticed_on: date = Field(description="The day the service found it overdue (Europe/Rome): after due_on")


class IndicatorFellBehind(EventPayload):
    """A measurement put an indicator behind its target path where the value in force
    before it was on track (or there was none). The path runs straight from the baseline,
    at the end of the baseline year, to the year's target, at the end of that year; behind
    is less progress than the path expects by the day measured. Published in the
    measurement's transaction; keyed by the node it measures."""

    objective_id: str = Field(min_length=1, max_length=100)
    indicator_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    unit: str = Field(min_length=1, max_length=50)
    direction: Literal["INCREASING", "DECREASING"]
    fiscal_year: int = Field(ge=1990, le=2100, description="The period measured: measured_on's year")
    measured_on: date
    value: DecimalString
    expected_value: DecimalString = Field(description="Where the path expects the indicator on measured_on")
    target_value: DecimalString = Field(description="The target for fiscal_year")
    baseline_value: DecimalString
    baseline_year: int = Field(ge=1990, le=2100)
    progress: RatioString = Field(description="(value − baseline) / (target − baseline), raw")
    expected_progress: RatioString = Field(description="The share of the way the path expects by measured_on, 0 to 1")
    previous_measured_on: date | None = Field(description="The measurement in force before this one, if any")
    previous_value: DecimalString | None
