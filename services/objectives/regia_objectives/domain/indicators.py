"""Indicators on a node of the plan tree, as IATI results keep them: a name and a unit, the
direction that counts as better, a baseline, a target per fiscal year and the actual values
measured over time. Pure rules, no I/O; values are exact decimals, never floats.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from .commands import FiscalYear, ObjectiveId
from .errors import InvalidIndicatorData


class Direction(StrEnum):
    INCREASING = "INCREASING"  # more is better: jobs created, firms in the Miglio Blu
    DECREASING = "DECREASING"  # less is better: the unemployment rate


@dataclass(frozen=True)
class Indicator:
    indicator_id: str
    objective_id: str
    name: str
    unit: str
    direction: Direction
    baseline_value: Decimal
    baseline_year: int
    description: str | None = None


@dataclass(frozen=True)
class Measurement:
    measured_on: date
    value: Decimal
    source: str | None = None
    comment: str | None = None


def check_target(
    indicator: Indicator,
    fiscal_year: int,
    value: Decimal,
    *,
    year_field: str = "fiscal_year",
    value_field: str = "value",
) -> None:
    """A target is set for a period from the baseline on, and points the way the indicator
    improves: a target on the wrong side of the baseline is a plan that aims to get worse,
    almost always a typo or a wrong direction, so it is refused rather than kept."""
    if fiscal_year < indicator.baseline_year:
        raise InvalidIndicatorData(
            f"target year {fiscal_year} is before the baseline year {indicator.baseline_year}", year_field
        )
    worse = (
        value < indicator.baseline_value
        if indicator.direction is Direction.INCREASING
        else value > indicator.baseline_value
    )
    if worse:
        better = "above" if indicator.direction is Direction.INCREASING else "below"
        raise InvalidIndicatorData(
            f"{indicator.direction.value.lower()} indicator {indicator.indicator_id!r}: a target must "
            f"be {better} or at its baseline {indicator.baseline_value}, got {value}",
            value_field,
        )


def check_targets(indicator: Indicator, targets: Mapping[int, Decimal], field: str = "targets") -> None:
    for i, (year, value) in enumerate(targets.items()):
        check_target(indicator, year, value, year_field=f"{field}.{i}.fiscal_year", value_field=f"{field}.{i}.value")


def check_measurement(indicator: Indicator, measurement: Measurement, today: date) -> None:
    """An actual value is observed, so it cannot be dated in the future; one from before the
    baseline year would measure progress against a reference that did not exist yet."""
    if measurement.measured_on > today:
        raise InvalidIndicatorData(
            f"measured_on {measurement.measured_on} is in the future (today is {today})", "measured_on"
        )
    if measurement.measured_on.year < indicator.baseline_year:
        raise InvalidIndicatorData(
            f"measured_on {measurement.measured_on} is before the baseline year {indicator.baseline_year}",
            "measured_on",
        )


# What an administrator sends. Values arrive as JSON strings or numbers that the HTTP layer
# parses straight to Decimal; the bounds are numeric(20,6)'s.
Value = Annotated[Decimal, Field(max_digits=20, decimal_places=6, gt=-(10**14), lt=10**14)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _iso_only(value: object) -> object:
    # pydantic would also read a bare number as a Unix time: a date must be written as one.
    if not isinstance(value, str | date):
        raise ValueError("a date is written 'YYYY-MM-DD'")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_only)]


class BaselineInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Value
    year: FiscalYear


class TargetInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fiscal_year: FiscalYear
    value: Value


class DefineIndicator(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicator_id: ObjectiveId
    name: Annotated[Text, Field(max_length=300)]
    unit: Annotated[Text, Field(max_length=50, description='e.g. "posti di lavoro", "%", "EUR"')]
    direction: Direction
    baseline: BaselineInput
    targets: list[TargetInput] = Field(default_factory=list, max_length=100)
    description: Annotated[Text, Field(max_length=2000)] | None = None

    @model_validator(mode="after")
    def one_target_per_year(self) -> "DefineIndicator":
        years = [t.fiscal_year for t in self.targets]
        if len(years) != len(set(years)):
            raise ValueError("targets: each fiscal_year may appear only once")
        return self

    def indicator(self, objective_id: str) -> Indicator:
        return Indicator(
            self.indicator_id,
            objective_id,
            self.name,
            self.unit,
            self.direction,
            self.baseline.value,
            self.baseline.year,
            self.description,
        )


class SetTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Value


class RecordMeasurement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    measured_on: IsoDate
    value: Value
    source: Annotated[Text, Field(max_length=300)] | None = None
    comment: Annotated[Text, Field(max_length=2000)] | None = None

    def measurement(self) -> Measurement:
        return Measurement(self.measured_on, self.value, self.source, self.comment)
