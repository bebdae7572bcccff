"""Group commit: HTTP requests that arrive together are recorded in one transaction.

A request on its own costs five round trips to PostgreSQL (begin, one read, two writes,
commit), and on a small machine each round trip costs more CPU than deciding the request.
`recording.record_requests` decides any number of requests at once, each as if it ran
alone (`domain.batch.plan`), in those same five, so requests waiting at the same moment are
handed to it together: while one group's transaction runs, the next group gathers. A
request alone still goes at once, with no added wait; under load, a group holds everything
that arrived during the previous one (at most `max_group`).

Each request gets its own outcome or refusal, exactly as if it had run alone. A failure of
the whole transaction (the database away) fails every request of the group, as it would
have failed each; a race on a line opened or a key used concurrently runs the group again.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg

from regia_shared.contracts.refusal import Refused
from regia_shared.observability.logs import get_logger

from ..adapters.idempotency import KeyTakenConcurrently
from ..domain.errors import LineAlreadyExists
from .recording import FundingRequest, Outcome, record_requests

log = get_logger(__name__)
# A line id opened, or an Idempotency-Key used, by two transactions at once: the loser
# fails on the primary key and runs again, when it sees the line (and is refused, or
# revises it, as it should) or the key's record (and answers it again).
RACE_RETRIES = 3
T = TypeVar("T")


class GroupCommit:
    def __init__(self, pool: Callable[[], asyncpg.Pool], *, max_group: int = 200) -> None:
        self._pool = pool
        self._max_group = max_group
        self._waiting: list[tuple[FundingRequest, asyncio.Future[Outcome | Refused]]] = []
        self._worker: asyncio.Task | None = None

    async def record(self, request: FundingRequest) -> Outcome:
        """Record one request with whatever others are waiting; raise its `Refused`."""
        future: asyncio.Future[Outcome | Refused] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name="funding:group-commit")
        outcome = await future
        if isinstance(outcome, Refused):
            raise outcome
        return outcome

    async def _drain(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[: self._max_group], self._waiting[self._max_group :]
            try:
                outcomes = await record_together(self._pool(), [r for r, _ in group])
            except Exception as exc:  # the transaction failed: so does every request in it
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if not future.done():  # a client gone meanwhile: recorded all the same
                    future.set_result(outcome)


async def record_together(pool: asyncpg.Pool, requests: Sequence[FundingRequest]) -> list[Outcome | Refused]:
    """Requests in one transaction of their own, run again on a race (see RACE_RETRIES)."""
    outcomes, _ = await record_together_then(pool, requests, None)
    return outcomes


async def record_together_then(
    pool: asyncpg.Pool,
    requests: Sequence[FundingRequest],
    then: Callable[[asyncpg.Connection, list[Outcome | Refused]], Awaitable[T]] | None,
) -> tuple[list[Outcome | Refused], T | None]:
    """`record_together`, and `then` with the outcomes in the same transaction (an import
    run's record moves with the rows it records, or neither does); run again whole on a race."""
    for attempt in range(RACE_RETRIES):
        try:
            async with pool.acquire() as conn, conn.transaction():
                outcomes = await record_requests(conn, requests)
                return outcomes, (await then(conn, outcomes) if then is not None else None)
        except asyncpg.UniqueViolationError:
            if attempt == RACE_RETRIES - 1:
                raise LineAlreadyExists("the line was opened concurrently", "line_id") from None
        except KeyTakenConcurrently:
            if attempt == RACE_RETRIES - 1:
                raise
        log.info("group commit raced a concurrent request, running again", requests=len(requests))
    raise AssertionError("unreachable")
