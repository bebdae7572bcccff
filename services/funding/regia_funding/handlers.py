"""The funding service's use cases, the same for every way in (HTTP, batch, Kafka, import).

A request's Idempotency-Key record, every line it changes, their ledger entries and their
outbox events commit together or not at all, and a refused request writes nothing. Every
way in hands requests to the one executor (`execution.execute`): HTTP requests through
group commit (`group_commit`), a Kafka batch in its consumer's transaction, each message a
request of its own.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from regia_shared.refusal import Refused

from . import execution
from .domain.errors import BatchRefused, IdempotencyKeyReused
from .execution import Outcome, Request

@dataclass(frozen=True)
class Caller:
    institution_id: str
    key_id: str | None
    channel: str = "http"
    instruments: frozenset[str] | None = None  # the key's scope; None: every instrument
    on_behalf: bool = False  # an administrator acting for the institution (imports)

    @property
    def recorded_as(self) -> str:
        return "admin" if self.on_behalf else self.institution_id


async def record_requests(conn: asyncpg.Connection, requests: Sequence[Request]) -> list[Outcome | Refused]:
    """Record many requests in the caller's transaction: each one's outcome, or its
    refusal (which left no trace). A failure of the database escapes, for the caller to
    roll everything back and try the whole batch again."""
    return await execution.execute(conn, requests)


__all__ = ["BatchRefused", "Caller", "IdempotencyKeyReused", "Outcome", "Request", "record_requests"]
