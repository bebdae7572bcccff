"""Indicators on a node of the plan tree, as IATI results keep them: a name and a unit, the
direction that counts as better, a baseline, a target per fiscal year and the actual values
measured over time. Pure rules, no I/O; values are exact decimals, never floats.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from regia_shared.refusal import Refused


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


class InvalidIndicatorData(Refused):
    status, code = 422, "invalid_indicator_data"


def check_target(indicator: Indicator, fiscal_year: int, value: Decimal, *,
                 year_field: str = "fiscal_year", value_field: str = "value") -> None:
    """A target is set for a period from the baseline on, and points the way the indicator
    improves: a target on the wrong side of the baseline is a plan that aims to get worse,
    almost always a typo or a wrong direction, so it is refused rather than kept."""
    if fiscal_year < indicator.baseline_year:
        raise InvalidIndicatorData(
            f"target year {fiscal_year} is before the baseline year {indicator.baseline_year}",
            year_field)
    worse = (value < indicator.baseline_value if indicator.direction is Direction.INCREASING
             else value > indicator.baseline_value)
    if worse:
        better = "above" if indicator.direction is Direction.INCREASING else "below"
        raise InvalidIndicatorData(
            f"{indicator.direction.value.lower()} indicator {indicator.indicator_id!r}: a target must "
            f"be {better} or at its baseline {indicator.baseline_value}, got {value}", value_field)


def check_targets(indicator: Indicator, targets: Mapping[int, Decimal], field: str = "targets") -> None:
    for i, (year, value) in enumerate(targets.items()):
        check_target(indicator, year, value, year_field=f"{field}.{i}.fiscal_year",
                     value_field=f"{field}.{i}.value")


def check_measurement(indicator: Indicator, measurement: Measurement, today: date) -> None:
    """An actual value is observed, so it cannot be dated in the future; one from before the
    baseline year would measure progress against a reference that did not exist yet."""
    if measurement.measured_on > today:
        raise InvalidIndicatorData(
            f"measured_on {measurement.measured_on} is in the future (today is {today})", "measured_on")
    if measurement.measured_on.year < indicator.baseline_year:
        raise InvalidIndicatorData(
            f"measured_on {measurement.measured_on} is before the baseline year "
            f"{indicator.baseline_year}", "measured_on")
