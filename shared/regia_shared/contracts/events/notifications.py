"""Events published by the notifier on `regia.notifications.v1`, keyed by delivery id."""

from typing import Literal

from pydantic import Field

from regia_shared.contracts.events.envelope import EventPayload

Channel = Literal["email", "webhook"]


class AlertDelivered(EventPayload):
    delivery_id: str
    cause_event_id: str
    channel: Channel
    recipient: str
    attempts: int = Field(ge=1)


class AlertFailed(EventPayload):
    """The last attempt failed: the delivery is dead-lettered."""

    delivery_id: str
    cause_event_id: str
    channel: Channel
    recipient: str
    attempts: int = Field(ge=1)
    error: str
