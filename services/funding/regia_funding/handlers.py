"""The funding service's use cases, the same for every way in (HTTP, batch, Kafka, import).

A request runs in one transaction: its Idempotency-Key record, every line it changes, their
ledger entries and their outbox events commit together or not at all, and a refused request
writes nothing. The Kafka way in runs a whole batch of messages in one transaction through
the same executor (`execution.execute`), each message a request of its own.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from regia_shared.refusal import Refused

from . import execution
from .domain.commands import FundingCommand
from .domain.errors import BatchRefused, IdempotencyKeyReused, LineAlreadyExists
from .adapters.idempotency import KeyTakenConcurrently
from .execution import Outcome, Request

# A line id opened, or an Idempotency-Key used, by two requests at once: the loser's
# transaction fails on the primary key and is run again, when it sees the line (and is
# refused, or revises it, as it should) or the key's record (and answers it again).
RACE_RETRIES = 3


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


async def record_funding_events(
    pool: asyncpg.Pool, caller: Caller, commands: Sequence[FundingCommand], *, batch: bool,
    idempotency_key: str, request_sha256: str, correlation_id: str,
) -> Outcome:
    """Record one request, or raise the `Refused` that says why nothing was recorded."""
    request = Request(caller, commands, batch, idempotency_key, request_sha256, correlation_id)
    for attempt in range(RACE_RETRIES):
        try:
            async with pool.acquire() as conn, conn.transaction():
                (outcome,) = await execution.execute(conn, [request])
        except asyncpg.UniqueViolationError:
            if attempt == RACE_RETRIES - 1:
                raise LineAlreadyExists("the line was opened concurrently", "line_id") from None
            continue
        except KeyTakenConcurrently:
            if attempt == RACE_RETRIES - 1:
                raise
            continue
        if isinstance(outcome, Refused):
            raise outcome
        return outcome
    raise AssertionError("unreachable")


async def record_requests(conn: asyncpg.Connection, requests: Sequence[Request]) -> list[Outcome | Refused]:
    """Record many requests in the caller's transaction: each one's outcome, or its
    refusal (which left no trace). A failure of the database escapes, for the caller to
    roll everything back and try the whole batch again."""
    return await execution.execute(conn, requests)


__all__ = ["BatchRefused", "Caller", "IdempotencyKeyReused", "Outcome", "Request", "record_funding_events",
           "record_requests"]
