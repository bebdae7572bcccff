"""The funding service's use cases, the same for every way in (HTTP, batch, Kafka, import).

A request runs in one transaction: its Idempotency-Key record, every line it changes,
their ledger entries and their outbox events commit together or not at all. Each command
of a batch runs under a savepoint, so every refusal can be reported at once and a refused
batch still writes nothing.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from regia_shared.refusal import Refused

from . import execution
from .adapters import idempotency
from .domain.commands import FundingCommand
from .domain.errors import FundingError


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


class IdempotencyKeyReused(FundingError):
    status, code = 422, "idempotency_key_reused"


class BatchRefused(FundingError):
    status, code = 422, "batch_refused"

    def __init__(self, refusals: Sequence[tuple[int, Refused]]) -> None:
        self.details = [{"index": i, "error": r.code, "field": r.field, "message": r.message}
                        for i, r in refusals]
        super().__init__(f"{len(refusals)} of the batch's events were refused; nothing was recorded: "
                         + "; ".join(f"[{d['index']}] {d['message']}" for d in self.details))


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool


async def record_funding_events(
    pool: asyncpg.Pool, caller: Caller, commands: Sequence[FundingCommand], *, batch: bool,
    idempotency_key: str, request_sha256: str, correlation_id: str,
) -> Outcome:
    async with pool.acquire() as conn, conn.transaction():
        earlier = await idempotency.claim(conn, caller.institution_id, idempotency_key, request_sha256)
        if earlier is not None:
            if earlier["request_sha256"] != request_sha256:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was already used for a different request", "Idempotency-Key")
            return Outcome(earlier["status_code"], _json(earlier["response"]), replayed=True)
        results, refusals = [], []
        for index, command in enumerate(commands):
            try:
                async with conn.transaction():  # a savepoint: a refusal leaves no trace
                    results.append(await execution.execute(conn, caller, command, correlation_id))
            except Refused as refusal:
                refusals.append((index, refusal))
        if refusals:
            raise refusals[0][1] if not batch else BatchRefused(refusals)
        body = {"results": results} if batch else results[0]
        await idempotency.complete(conn, caller.institution_id, idempotency_key, 202, body)
        return Outcome(202, body, replayed=False)


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)
