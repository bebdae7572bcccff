"""The one envelope every event travels in.

Producers build it strictly (`Envelope.wrap`); consumers read it tolerantly (unknown
fields are ignored, so a producer can add a field without breaking anyone).
"""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic_core import PydanticSerializationError
from uuid_utils.compat import uuid7

_NUL_FREE = "nul_free"
# Where an envelope keeps the JSON it was checked as (in its __dict__, beside the fields:
# pydantic's equality and dumps look at the fields only), so that `to_json` does not
# serialise it a second time: every event built to be written was serialised twice.
_WIRE = "_wire"
_NUL_ESCAPE = b"\\u0000"  # how JSON writes a NUL; a raw NUL byte is not valid JSON
# ... unless its backslash is itself escaped (the text backslash-u-0-0-0-0 is no NUL).
_REAL_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _has_nul(text: bytes) -> bool:
    return _NUL_ESCAPE in text and _REAL_NUL_ESCAPE.search(text) is not None


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
    def storable_text(self, info: ValidationInfo) -> "Envelope":
        """No text PostgreSQL cannot hold (NUL) or encode (a lone surrogate), anywhere: a
        consumer would fail to store such an event on every redelivery, and block its
        partition, where refusing it here makes it a dead letter.

        Checked on the JSON the envelope serialises to, in pydantic's Rust serializer: that
        refuses a lone surrogate, and writes a NUL as its escape. An
        envelope read from JSON bytes with no such escape (`from_json`) needs no check: the
        JSON parser refuses lone surrogates itself."""
        if info.context is not None and info.context.get(_NUL_FREE):
            return self
        try:
            text = self.__pydantic_serializer__.to_json(self)
        except PydanticSerializationError:
            raise ValueError("text may not contain a lone UTF-16 surrogate") from None
        if _has_nul(text):
            raise ValueError("text may not contain the NUL character (\\u0000)")
        self.__dict__[_WIRE] = text
        return self

    @classmethod
    def from_json(cls, raw: bytes) -> "Envelope":
        """Read an envelope from the wire (tolerantly: unknown fields are ignored)."""
        return cls.model_validate_json(raw, context={_NUL_FREE: not _has_nul(raw)})

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
        # UUIDv7 (RFC 9562): ids made later sort later, so every index keyed by event id
        # (each consumer's inbox, the ledger, the outbox) grows at its end instead of at a
        # random page; still unique without coordination, as v4 was.
        event_id = event_id or uuid7()
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
        """The envelope's JSON: the text it was checked as when it was built (frozen, so
        still its text), else serialised now."""
        kept = self.__dict__.get(_WIRE)
        return kept if kept is not None else self.__pydantic_serializer__.to_json(self)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> "Envelope":
        # A copy with other fields is another text: it must not keep this one's.
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop(_WIRE, None)
        return copied


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
