"""The answers of the notifier's HTTP API, as typed models: what the OpenAPI document shows
is what a route returns (tests/unit/test_api_contract.py keeps it so)."""

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["email", "webhook"]


class Delivery(BaseModel):
    """One message to one recipient by one channel, and where it stands."""

    delivery_id: UUID
    cause_event_id: UUID
    correlation_id: str
    objective_id: str | None
    kind: Literal["alert", "digest"]
    trigger: str | None
    rules: list[str] = Field(description="The alert rules that chose this recipient")
    channel: Channel
    recipient: str = Field(description="An e-mail address or a webhook URL")
    recipient_name: str
    contact_id: str | None
    partner_id: str | None
    language: str
    subject: str
    status: Literal["PENDING", "SENDING", "DELIVERED", "DEAD"]
    attempts: int
    retry_from: int = Field(description="Attempts made before an administrator's last retry")
    next_attempt_at: datetime | None = Field(description="While PENDING or SENDING only")
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class Attempt(BaseModel):
    attempt: int
    at: datetime
    duration_ms: int | None
    outcome: Literal["SENT", "FAILED", "ABANDONED"]
    error: str | None


class DeliveryDetails(Delivery):
    body: str
    body_html: str | None
    attempt_log: list[Attempt]


class DeadLetter(BaseModel):
    """A delivery nobody will try again."""

    delivery_id: UUID
    cause_event_id: UUID
    correlation_id: str
    objective_id: str | None
    kind: Literal["alert", "digest"]
    trigger: str | None
    rules: list[str]
    channel: Channel
    recipient: str
    recipient_name: str
    contact_id: str | None
    partner_id: str | None
    subject: str
    attempts: int
    retry_from: int
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class RetryResult(BaseModel):
    retried: list[UUID] = Field(description="Put back in the queue, due now")
    not_dead: list[UUID] = Field(description="Exist but are not dead (delivered, or retried already): left alone")
    unknown: list[UUID] = Field(description="No such delivery")


class RecipientContact(BaseModel):
    contact_id: str
    partner_id: str
    name: str
    email: str
    language: str
    channels: list[str]
    cadence: str
    event_kinds: list[str] | None = Field(description="The kinds of alert they hear of; null: every kind")
    kinds: dict[str, str] = Field(description="A kind of alert's own e-mail cadence, where it has one; off: none")


class Recipients(BaseModel):
    objective_id: str
    lead: str | None = Field(description="The lead partner, as this service learnt it")
    lead_name: str | None
    contacts: list[RecipientContact]


class Audience(BaseModel):
    objective_id: str
    on: date
    title: str | None
    plan_id: str | None
    audiences: dict[str, list[str]] = Field(description="Each audience of a rule: the partners it reaches")


class Webhook(BaseModel):
    webhook_id: str
    partner_id: str
    contact_id: str | None
    url: str
    active: bool
    created_at: datetime
    updated_at: datetime


class NewWebhookAnswer(Webhook):
    secret: str = Field(description="The signing secret: shown now and never again")


class Unaddressed(BaseModel):
    """An alert that reached nobody."""

    cause_event_id: UUID
    trigger: str
    objective_id: str | None
    fiscal_year: int | None
    rules: list[str]
    partners: list[str] = Field(description="The partners the rules named, who had no one to tell")
    reason: str
    occurred_at: datetime
    recorded_at: datetime


class WaitingAlert(BaseModel):
    cause_event_id: UUID
    email: str
    objective_id: str | None
    trigger: str
    rules: list[str]
    subject: str
    cadence: Literal["immediate", "daily_digest", "weekly_digest"]
    due_at: datetime
    created_at: datetime


class DigestsSent(BaseModel):
    digests: int = Field(description="Messages put together and queued")


class JsonSchema(BaseModel):
    """A JSON Schema document (draft 2020-12), as published."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    schema_: str | None = Field(default=None, alias="$schema")
    id_: str | None = Field(default=None, alias="$id")
    title: str | None = None
    defs: dict[str, Any] | None = Field(default=None, alias="$defs")
