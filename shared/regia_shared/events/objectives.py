"""Events published by the objectives service on `regia.objectives.v1`, keyed by objective."""

from enum import StrEnum

from pydantic import Field

from ..money import Cents
from .envelope import EventPayload


class CoverageStatus(StrEnum):
    FUNDED = "FUNDED"
    PARTIALLY_FUNDED = "PARTIALLY_FUNDED"
    AT_RISK = "AT_RISK"
    UNFUNDED = "UNFUNDED"


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


class ObjectiveCoverageChanged(EventPayload):
    objective_id: str = Field(min_length=1, max_length=100)
    title: str
    fiscal_year: int = Field(ge=1990, le=2100)
    need_cents: Cents
    committed_cents: Cents
    disbursed_cents: Cents
    committed_by_level: dict[str, Cents]
    coverage_bp: int = Field(ge=0, description="Coverage in basis points: 10000 is 100 %")
    status: CoverageStatus


class ObjectiveStatusChanged(EventPayload):
    objective_id: str = Field(min_length=1, max_length=100)
    title: str
    fiscal_year: int = Field(ge=1990, le=2100)
    previous_status: CoverageStatus | None
    status: CoverageStatus
    coverage_bp: int = Field(ge=0)
    need_cents: Cents
    committed_cents: Cents
    at_risk_threshold_pct: int = Field(ge=1, le=100)
