"""Version 1 of the objectives events whose shape version 2 widened, frozen as published.

Version 2 of `ObjectiveCoverageChanged` and `ObjectiveStatusChanged` added NO_NEED to the
statuses: a consumer of version 1 would refuse it, so the events went up a version (a
consumer that knows only version 1 dead-letters version 2 instead of misreading it). The
events of version 1 already published stay readable: `parse_payload` reads them with these
models and hands the consumer the current model, which accepts every version 1 payload.
Never change this module: its schemas are the checked-in `*.v1.json`.
"""

from enum import StrEnum

from pydantic import Field

from regia_shared.contracts.events.envelope import EventPayload
from regia_shared.contracts.money import Cents


class CoverageStatus(StrEnum):
    FUNDED = "FUNDED"
    PARTIALLY_FUNDED = "PARTIALLY_FUNDED"
    AT_RISK = "AT_RISK"
    UNFUNDED = "UNFUNDED"


class ObjectiveCoverageChanged(EventPayload):
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


class ObjectiveStatusChanged(EventPayload):
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
