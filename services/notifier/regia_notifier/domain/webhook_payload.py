"""What a webhook call carries, as pydantic models: one per kind of alert, told apart by
`alert`. Pure.

The notifier builds every body from these models (planning.webhook_body), and publishes
their JSON Schema (`schema()`, served at GET /v1/webhooks/payload-schema and checked in as
webhook-payload.schema.json beside this module), so the payloads and the schema cannot
drift apart. A model forbids extra fields: a fact added to an occurrence and not here
fails every body of its kind, instead of going out undocumented.

Amounts are in cents, statuses and levels are codes (`AT_RISK`, `REGIONE`): payloads are
for machines, whatever the language of their people.
"""

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, TypeAdapter

from regia_shared.contracts.events.objectives import CoverageStatus

from .causes import Kind

SCHEMA_FILE = "webhook-payload.schema.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# As Python writes it (`2026-03-01T09:00:00+00:00`), as the payloads always had it.
_IsoDatetime = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str, when_used="json")]


class PathNode(_Strict):
    """One node of the plan, from its root to the objective, as last defined."""

    objective_id: str
    title: str
    kind: str | None = Field(description="VISION, PROGRAMME, OBJECTIVE or ACTION; null if not known")


_CommittedByLevel = Annotated[
    dict[str, int] | None,
    Field(description="Committed cents by level of government (REGIONE, STATO, ...); null if not known"),
]
_GapToThreshold = Annotated[
    int | None,
    Field(description="Cents missing to the at-risk threshold (0 once reached); null without a need or a threshold"),
]
_GapToFull = Annotated[
    int | None,
    Field(description="Cents missing to 100 % of the year's need (0 once reached); null without a need or a threshold"),
]
_Path = Annotated[list[PathNode], Field(description="The plan's nodes from its root to the objective itself")]
_ConsoleUrl = Annotated[str | None, Field(description="The objective's page in the console; null if not configured")]


class StatusChangedObjective(_Strict):
    objective_id: str
    title: str
    fiscal_year: int
    previous_status: CoverageStatus | None
    status: CoverageStatus
    coverage_bp: int
    need_cents: int
    committed_cents: int
    at_risk_threshold_pct: int
    committed_by_level: _CommittedByLevel
    path: _Path
    console_url: _ConsoleUrl
    gap_to_threshold_cents: _GapToThreshold
    gap_to_full_cents: _GapToFull


class FundingDroppedObjective(_Strict):
    objective_id: str
    title: str
    fiscal_year: int
    before_cents: int
    after_cents: int
    need_cents: int
    coverage_bp: int
    status: CoverageStatus
    at_risk_threshold_pct: int | None
    committed_by_level: _CommittedByLevel
    path: _Path
    console_url: _ConsoleUrl
    gap_to_threshold_cents: _GapToThreshold
    gap_to_full_cents: _GapToFull


class Cause(_Strict):
    """A funding event behind the alert: who acted, on which line, before and after, why."""

    event_id: uuid.UUID = Field(description="The funding event (its envelope's event_id)")
    kind: Kind = Field(description="What the event did to its line")
    institution_id: str
    institution_name: str | None = Field(description="As the partner directory has it; null if not known")
    level: str = Field(description="The institution's level of government: REGIONE, STATO, ...")
    line_id: str
    objective_id: str = Field(description="The line's objective: this one, or a node below it in the plan")
    fiscal_year: int
    before_cents: int = Field(description="The line's commitment before the event")
    after_cents: int = Field(description="The line's commitment after the event")
    reason: str | None = Field(description="As recorded in the funding ledger; null if none was given")
    occurred_at: _IsoDatetime
    disbursed_delta_cents: int = Field(description="What a disbursement paid (0 for other kinds)")
    counterpart_line_id: str | None = Field(description="The other line of a reallocation or a roll-over")


_Causes = Annotated[
    list[Cause],
    Field(
        description=(
            "The funding events behind the alert, oldest first (at most 100, the latest), found by the "
            "envelope's correlation_id; empty when none is known: a change made by hand, or a funding "
            "event that had not reached the notifier when the alert was planned"
        )
    ),
]


class RevokedLine(_Strict):
    line_id: str
    objective_id: str
    objective_title: str | None
    institution_id: str
    institution_name: str | None
    fiscal_year: int
    revoked_cents: int
    reason: str | None


class ClosedReview(_Strict):
    plan_id: str
    plan_title: str | None
    fiscal_year: int
    need_cents: int
    committed_cents: int
    disbursed_cents: int
    coverage_bp: int
    nodes_by_status: dict[str, int]
    objective_ids: list[str]


class OpenYear(_Strict):
    fiscal_year: int
    status: CoverageStatus
    coverage_bp: int
    need_cents: int
    committed_cents: int
    committed_by_level: _CommittedByLevel
    gap_to_threshold_cents: _GapToThreshold
    gap_to_full_cents: _GapToFull


class CurrentStateObjective(_Strict):
    objective_id: str
    title: str
    years: list[OpenYear] = Field(description="The years of the budget window that are not FUNDED, in order")
    at_risk_threshold_pct: int | None
    path: _Path
    console_url: _ConsoleUrl


class SingleLevelObjective(_Strict):
    objective_id: str
    title: str
    fiscal_year: int
    level: str = Field(description="The one level of government all the committed money now comes from")
    committed_cents: int = Field(description="Everything committed for the year: all of it from `level`")
    previous_committed_by_level: dict[str, int] = Field(
        description="Committed cents by level before the change: two levels or more"
    )
    need_cents: int
    coverage_bp: int
    status: CoverageStatus
    at_risk_threshold_pct: int
    path: _Path
    console_url: _ConsoleUrl
    gap_to_threshold_cents: _GapToThreshold
    gap_to_full_cents: _GapToFull


_ObjectiveTitle = Annotated[str | None, Field(description="The objective's title; null if not known yet")]
_Decimal = Annotated[
    str, Field(pattern=r"^-?\d+(\.\d+)?$", description='An exact decimal, as a string ("1150", "-0.25")')
]


class OverdueMilestone(_Strict):
    objective_id: str
    objective_title: _ObjectiveTitle
    milestone_id: str
    title: str
    fiscal_year: int = Field(description="The year of its due date")
    due_on: date
    noticed_on: date = Field(description="The day it was found overdue: after due_on")
    path: _Path
    console_url: _ConsoleUrl


class BehindIndicator(_Strict):
    objective_id: str
    objective_title: _ObjectiveTitle
    indicator_id: str
    name: str
    unit: str
    direction: Literal["INCREASING", "DECREASING"]
    fiscal_year: int = Field(description="The year measured, whose target the path leads to")
    measured_on: date
    value: _Decimal
    expected_value: _Decimal = Field(description="Where the target path expects the indicator on measured_on")
    target_value: _Decimal
    baseline_value: _Decimal
    baseline_year: int
    progress: _Decimal = Field(description="(value − baseline) / (target − baseline), raw, 6 places")
    expected_progress: _Decimal = Field(description="The share of the way the path expects by measured_on, 0 to 1")
    previous_measured_on: date | None = Field(description="The measurement in force before it; null if none")
    previous_value: _Decimal | None
    path: _Path
    console_url: _ConsoleUrl


class _Payload(_Strict):
    """The fields every kind has, in the order a body has them; each kind narrows `alert`
    and adds its facts under its own key."""

    event_id: uuid.UUID = Field(description="The event the alert comes from")
    delivery_id: uuid.UUID = Field(description="This delivery: the same on every retry of it")
    type: str = Field(description="The cause event's type (ObjectiveStatusChanged, FundingRevoked, ...)")
    alert: str = Field(description="The kind of alert: which key holds its facts")
    rules: list[str] = Field(description="The rules that reached this partner")
    occurred_at: _IsoDatetime = Field(description="When the cause event happened")


class StatusChangedPayload(_Payload):
    alert: Literal["status_changed"]
    objective: StatusChangedObjective
    causes: _Causes


class FundingDroppedPayload(_Payload):
    alert: Literal["funding_dropped"]
    objective: FundingDroppedObjective
    causes: _Causes


class LineRevokedPayload(_Payload):
    alert: Literal["line_revoked"]
    line: RevokedLine


class ReviewClosedPayload(_Payload):
    alert: Literal["review_closed"]
    review: ClosedReview


class CurrentStatePayload(_Payload):
    alert: Literal["current_state"]
    objective: CurrentStateObjective


class SingleLevelDependencyPayload(_Payload):
    alert: Literal["single_level_dependency"]
    objective: SingleLevelObjective


class MilestoneOverduePayload(_Payload):
    alert: Literal["milestone_overdue"]
    milestone: OverdueMilestone


class IndicatorBehindPayload(_Payload):
    alert: Literal["indicator_behind"]
    indicator: BehindIndicator


WebhookPayload = Annotated[
    StatusChangedPayload
    | FundingDroppedPayload
    | LineRevokedPayload
    | ReviewClosedPayload
    | CurrentStatePayload
    | SingleLevelDependencyPayload
    | MilestoneOverduePayload
    | IndicatorBehindPayload,
    Field(discriminator="alert"),
]
PAYLOAD: TypeAdapter[WebhookPayload] = TypeAdapter(WebhookPayload)

# Known only when the request is sent (adapters.webhook_sender adds them, first): a planned
# body is validated with these stand-ins, and stored without them.
SENDING_IDS = {"event_id", "delivery_id"}
_NOT_YET_SENT = uuid.UUID(int=0)


def planned_body(
    event_type: str,
    alert: str,
    rules: tuple[str, ...],
    occurred_at: datetime,
    subject: str,
    facts: dict[str, Any],
    **beside: Any,
) -> dict[str, Any]:
    """A body as planned, less the ids known only when sending, validated by its kind's
    model (a ValidationError if the facts are not what the schema says) and dumped as JSON
    values (codes, ISO dates, lists). `beside`: what the kind carries next to its facts
    (the `causes` of an objective-year's alert)."""
    payload = PAYLOAD.validate_python(
        {
            "event_id": _NOT_YET_SENT,
            "delivery_id": _NOT_YET_SENT,
            "type": event_type,
            "alert": alert,
            "rules": list(rules),
            "occurred_at": occurred_at,
            subject: facts,
            **beside,
        }
    )
    dumped: dict[str, Any] = payload.model_dump(mode="json", exclude=SENDING_IDS)
    return dumped


def schema() -> dict[str, Any]:
    """The published JSON Schema (2020-12) of a webhook call's body."""
    found: dict[str, Any] = PAYLOAD.json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Regia webhook payload",
        "description": (
            "The JSON body of a webhook call from the Regia notifier, one shape per `alert`. "
            "Each call is signed: X-Regia-Signature: v1=<HMAC-SHA256 of '<X-Regia-Timestamp>.<raw body>'>."
        ),
        **found,
    }
