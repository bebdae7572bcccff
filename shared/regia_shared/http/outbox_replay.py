"""Republishing what a broker lost: POST /v1/ops/outbox/replay on every service.

The outbox keeps published rows (with `published_at`) for its retention period. When the
broker loses messages (the embedded broker keeps them in memory; a Kafka cluster can lose
a topic), an operator asks each service to publish again every row created since a time:
the topics are created again if they are missing, the rows' `published_at` is cleared, and
the relay publishes them once more in id order (so in order per key). Consumers dedupe on
`event_id` in their inbox, so replaying more than was lost changes nothing.

`published_since` picks the rows by when they were last *published* instead: every row
published at or after the instant a broker incarnation started was held by that broker
alone (a row written earlier but published late, after a backlog, included; a row already
republished once, by its new `published_at`). `regia up` asks for exactly that after its
in-memory broker restarted (regia/local/stack.py, BrokerIncarnations).
"""

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import asyncpg
from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, model_validator

from regia_shared.http.auth import require_admin
from regia_shared.messaging.kafka import TopicPolicy, ensure_topics
from regia_shared.messaging.security import PLAINTEXT, KafkaSecurity


class ReplayRequest(BaseModel):
    since: datetime | None = Field(
        default=None,
        description="Republish every outbox row created at or after this instant (ISO 8601, with a time zone)",
    )
    published_since: datetime | None = Field(
        default=None,
        description="Or: republish every row last published at or after this instant, "
        "whenever it was created (what a broker that started then held)",
    )

    @model_validator(mode="after")
    def one_criterion(self) -> "ReplayRequest":
        if (self.since is None) == (self.published_since is None):
            raise ValueError("give exactly one of since (creation time) and published_since")
        return self


class ReplayResult(BaseModel):
    requeued: int = Field(description="Outbox rows the relay will publish again")
    oldest_kept: datetime | None = Field(
        description="Creation time of the oldest row still in the outbox: rows older than the "
        "retention period are pruned and cannot be replayed"
    )
    topics: list[str] = Field(description="Topics made sure to exist before the replay")


def outbox_replay_router(
    pool: Callable[[], asyncpg.Pool],
    schema: str,
    topics: Callable[[], Sequence[str]],
    ensure: Callable[[Sequence[str]], Awaitable[None]],
) -> APIRouter:
    router = APIRouter(prefix="/v1/ops", tags=["operations"], dependencies=[Depends(require_admin)])

    @router.post("/outbox/replay", response_model=ReplayResult)
    async def replay(body: ReplayRequest) -> ReplayResult:
        """Publish again every event this service wrote since `since` (after a broker lost
        messages). Safe to repeat: consumers ignore events they have already applied."""
        needed = list(topics())
        await ensure(needed)  # a broker that lost its state lost its topics too
        # Two fixed statements, never SQL built from the request: which column the instant bounds.
        if body.since is not None:
            sql, instant = (
                (
                    "WITH r AS (UPDATE outbox SET published_at = NULL"
                    " WHERE created_at >= $1 AND published_at IS NOT NULL RETURNING 1)"
                    " SELECT count(*) FROM r"
                ),
                body.since,
            )
        else:
            # ReplayRequest.one_criterion: without `since`, `published_since` is given.
            assert body.published_since is not None
            sql, instant = (
                (
                    "WITH r AS (UPDATE outbox SET published_at = NULL"
                    " WHERE published_at >= $1 RETURNING 1)"
                    " SELECT count(*) FROM r"
                ),
                body.published_since,
            )
        async with pool().acquire() as conn, conn.transaction():
            requeued = await conn.fetchval(sql, instant)
            oldest = await conn.fetchval("SELECT min(created_at) FROM outbox")
            await conn.execute("SELECT pg_notify($1, '')", f"{schema}_outbox")  # wake the relay
        return ReplayResult(requeued=requeued, oldest_kept=oldest, topics=needed)

    return router


def ensure_with(
    bootstrap: str, policy: TopicPolicy, security: KafkaSecurity = PLAINTEXT
) -> Callable[[Sequence[str]], Awaitable[None]]:
    async def ensure(names: Sequence[str]) -> None:
        await ensure_topics(bootstrap, names, policy, security)

    return ensure
