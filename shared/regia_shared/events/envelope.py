"""The one envelope every event travels in.

Producers build it strictly (`Envelope.wrap`); consumers read it tolerantly (unknown
fields are ignored, so a producer can add a field without breaking anyone).
"""

from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: UUID
    type: str = Field(min_length=1, max_length=100)
    version: int = Field(ge=1)
    key: str = Field(min_length=1, max_length=200, description="Kafka key: the aggregate id")
    occurred_at: datetime
    producer: str = Field(min_length=1, max_length=100)
    correlation_id: str = Field(min_length=1, max_length=200)
    causation_id: str | None = Field(default=None, max_length=200)
    # When the first event of this chain was accepted: carried along a chain of causes so
    # the last service can measure the end-to-end delay. Absent: this event starts a chain
    # (its own occurred_at is the origin), or it was produced before the field existed.
    origin_at: datetime | None = None
    payload: dict[str, Any]

    @model_validator(mode="after")
    def storable_text(self) -> "Envelope":
        """No text PostgreSQL cannot hold (NUL) or encode (a lone surrogate), anywhere: a
        consumer would fail to store such an event on every redelivery, and block its
        partition, where refusing it here makes it a dead letter."""
        for text in _texts([self.type, self.key, self.producer, self.correlation_id,
                            self.causation_id, self.payload]):
            if "\x00" in text:
                raise ValueError("text may not contain the NUL character (\\u0000)")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("text may not contain a lone UTF-16 surrogate") from None
        return self

    @classmethod
    def wrap(
        cls,
        payload: "EventPayload",
        *,
        key: str,
        producer: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        event_id: UUID | None = None,
        origin_at: datetime | None = None,
    ) -> "Envelope":
        event_id = event_id or uuid4()
        return cls(
            event_id=event_id,
            type=payload.event_type(),
            version=payload.event_version(),
            key=key,
            occurred_at=datetime.now(UTC),
            producer=producer,
            correlation_id=correlation_id or str(event_id),
            causation_id=causation_id,
            origin_at=origin_at,
            payload=payload.model_dump(mode="json"),
        )

    @property
    def origin(self) -> datetime:
        """When the chain this event belongs to started."""
        return self.origin_at or self.occurred_at

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


def _texts(value: Any) -> list[str]:
    """Every string in a JSON-like value, keys included, without recursion."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


class EventPayload(BaseModel):
    """Base of every event payload. A producer builds the model (so it is validated before
    it is written to the outbox); a consumer parses with `parse_payload`, which ignores
    fields it does not know. `VERSION` is bumped only with a new, incompatible shape."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    VERSION: ClassVar[int] = 1

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__

    @classmethod
    def event_version(cls) -> int:
        return cls.VERSION
