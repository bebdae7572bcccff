"""Which event payloads travel on which topic, for the AsyncAPI documents.

The registry knows every event type by name but not its topic: the topic is chosen where
the event is appended to the outbox. Each events module is the contract of ONE topic (its
docstring says which), so the module is the link, but for the objectives module, whose
coverage projection's events travel on a topic of their own (events.routing). A new
events module without a line here fails the unit test instead of silently vanishing from
the documents.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import EventPayload
from regia_shared.contracts.events.registry import EVENT_TYPES
from regia_shared.contracts.events.routing import ON_COVERAGE_TOPIC

TOPIC_OF_MODULE: dict[str, str] = {
    "regia_shared.contracts.events.funding": topics.FUNDING,
    "regia_shared.contracts.events.objectives": topics.OBJECTIVES,
    "regia_shared.contracts.events.plans": topics.OBJECTIVES,
    "regia_shared.contracts.events.partners": topics.PARTNERS,
    "regia_shared.contracts.events.notifications": topics.NOTIFICATIONS,
}


def topic_of(model: type[EventPayload]) -> str | None:
    if model in ON_COVERAGE_TOPIC:
        return topics.OBJECTIVES_COVERAGE
    return TOPIC_OF_MODULE.get(model.__module__)


def events_on(topic: str) -> list[type[EventPayload]]:
    """The registered event payloads published on `topic`, in registry order."""
    return [model for model in EVENT_TYPES.values() if topic_of(model) == topic]


class RejectedOriginal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str
    partition: int
    offset: int
    key: str | None
    value: Any
    headers: dict[str, str]


class InboundRejection(BaseModel):
    """An inbound funding command the funding service refused, with why and the original
    message (its `authorization` header removed)."""

    # Forbid extras so the unit test comparing it with a real rejection catches drift.
    model_config = ConfigDict(extra="forbid")

    error: str
    message: str
    field: str | None
    details: list[Any]
    original: RejectedOriginal


# Topics whose messages are not events in an envelope: their shape is documented here.
NON_EVENT_TOPICS: dict[str, tuple[type[BaseModel], str]] = {
    topics.FUNDING_INBOUND_REJECTED: (
        InboundRejection,
        "Inbound funding commands that were refused: plain JSON, not an envelope.",
    ),
}
