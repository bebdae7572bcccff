"""What every partners use case answers, and how it publishes the event of a change."""

import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

import asyncpg

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope, EventPayload
from regia_shared.messaging import outbox

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T
    event_id: uuid.UUID | None  # None: nothing changed, nothing published

    @property
    def created(self) -> bool:
        return self.event_id is not None


async def publish(conn: asyncpg.Connection, payload: EventPayload, *, key: str, correlation_id: str) -> uuid.UUID:
    """Put the event in the outbox, in the caller's transaction: it is published if and
    only if the change it tells commits."""
    envelope = Envelope.wrap(payload, key=key, producer="partners", correlation_id=correlation_id)
    await outbox.append(conn, topics.PARTNERS, [envelope])
    return envelope.event_id
