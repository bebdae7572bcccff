"""Poison messages on every service: GET /v1/ops/dead-letters (paged) and
POST /v1/ops/dead-letters/replay.

A consumer sets a record it cannot read aside in `dead_letters` (and on its DLQ topic) and
moves on (consumer.py). Once the cause is fixed (a consumer deployed that reads the new
version, a producer corrected), an operator replays the stored records: each is applied by
its consumer here and now, through the consumer's own path (decode, claim, apply), in the
transaction that marks it `replayed_at` (consumer.replay). An event the consumer applied
already is a duplicate for its inbox (or, for a consumer with no record, for its effect's
own check: `consumer.idempotent_effect`) and changes nothing; a record that is still poison
stays pending with its new error; a replayed row is left alone the next time.

Why not publish it again to its topic, as Regia once did: the topic is another service's,
and a service may write only its own (the broker's ACLs refuse the rest, docs/security.md,
"Event gateway"); and the record would have to be signed again with the owner's key. A
record set aside *as* forged (not signed by its topic's owner) is never replayed (listed
in `forged`): Regia does not apply what an outsider wrote.
"""

from collections.abc import Callable
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Query
from faststream.kafka import KafkaBroker
from pydantic import BaseModel, Field, model_validator

from regia_shared.http.auth import require_admin
from regia_shared.http.paging import Page, Paged, bigint
from regia_shared.messaging import consumer as consumers
from regia_shared.messaging.consumer import transient

VALUE_SHOWN = 4000  # characters of a record's value a listing shows
FORGED = "forged:"  # how the error of a record refused as not its owner's begins (signing.Forged)


class DeadLetter(BaseModel):
    id: int
    consumer: str
    topic: str
    partition: int
    offset: int
    key: str | None
    error: str
    value: str = Field(
        description=f"The record as received (UTF-8, invalid bytes replaced; the first {VALUE_SHOWN} characters)"
    )
    created_at: str
    replayed_at: str | None


# A BIGINT id: a larger number must be refused, not fail in SQL (a 500).
DeadLetterId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ReplayRequest(BaseModel):
    ids: list[DeadLetterId] | None = Field(
        default=None,
        min_length=1,
        max_length=10_000,
        description="The dead letters to replay, as the listing shows them",
    )
    all: bool = Field(default=False, description="Replay every dead letter not replayed yet")
    consumer: str | None = Field(
        default=None, max_length=200, description="Only this consumer's dead letters (with `all`)"
    )

    @model_validator(mode="after")
    def ids_or_all(self) -> "ReplayRequest":
        if bool(self.ids) == self.all:
            raise ValueError("name the dead letters in `ids`, or set `all` (not both)")
        return self


class NotReplayed(BaseModel):
    id: int
    error: str = Field(description="Why it was not applied")


class ReplayResult(BaseModel):
    replayed: list[int] = Field(description="Applied now by their consumer (or applied already, which changed nothing)")
    still_poison: list[NotReplayed] = Field(
        default_factory=list, description="Still not readable: left pending, with the error of this attempt"
    )
    failed: list[NotReplayed] = Field(
        default_factory=list, description="Their consumer failed to apply them: left pending, nothing applied"
    )
    already_replayed: list[int] = Field(default_factory=list, description="Replayed before: left alone")
    unknown: list[int] = Field(default_factory=list, description="No such dead letter (of this consumer)")
    forged: list[int] = Field(
        default_factory=list,
        description="Set aside as forged (not signed by their topic's owner): never replayed, left as they are",
    )


def dead_letters_router(pool: Callable[[], asyncpg.Pool], broker: KafkaBroker) -> APIRouter:
    router = APIRouter(prefix="/v1/ops", tags=["operations"], dependencies=[Depends(require_admin)])

    @router.get("/dead-letters")
    async def list_dead_letters(
        page: Paged,
        consumer: str | None = Query(None, max_length=200, description="Only this consumer's"),
        pending: bool = Query(False, description="Only those not replayed yet"),
    ) -> Page[DeadLetter]:
        """Poison messages this service's consumers set aside, the oldest first."""
        after = page.after("ops-dead-letters", {"consumer": consumer, "pending": pending}, (bigint,))
        async with pool().acquire() as conn:
            rows = await conn.fetch(
                'SELECT id, consumer, topic, partition, "offset", key, value, error, created_at,'
                " replayed_at FROM dead_letters WHERE ($1::text IS NULL OR consumer = $1)"
                " AND (NOT $2 OR replayed_at IS NULL) AND ($3::bigint IS NULL OR id > $3)"
                " ORDER BY id LIMIT $4",
                consumer,
                pending,
                after[0] if after else None,
                page.limit + 1,
            )
        return page.of([_shown(r) for r in rows], key=lambda d: (d.id,))

    @router.post("/dead-letters/replay", response_model=ReplayResult)
    async def replay(body: ReplayRequest) -> ReplayResult:
        """Apply dead letters now, by their consumer, now that the cause is fixed. Safe to
        repeat: a replayed row is left alone, and an event the consumer already applied is
        a duplicate its inbox ignores."""
        result = ReplayResult(replayed=[])
        subscriptions = consumers.subscriptions_of(broker)
        after_commit: list[Callable[[], None]] = []
        columns = 'id, consumer, topic, partition, "offset", key, value, error, replayed_at'
        async with pool().acquire() as conn, conn.transaction():
            if body.all:
                rows = await conn.fetch(
                    f"SELECT {columns} FROM dead_letters"  # noqa: S608 - the module's own column list
                    " WHERE replayed_at IS NULL AND ($1::text IS NULL OR consumer = $1)"
                    " ORDER BY id FOR UPDATE",
                    body.consumer,
                )
            else:
                rows = await conn.fetch(
                    f"SELECT {columns} FROM dead_letters"  # noqa: S608 - the module's own column list
                    " WHERE id = ANY($1::bigint[]) AND ($2::text IS NULL OR consumer = $2)"
                    " ORDER BY id FOR UPDATE",
                    body.ids,
                    body.consumer,
                )
                found = {r["id"] for r in rows}
                result.unknown = [i for i in dict.fromkeys(body.ids or []) if i not in found]
            # In id order, so records of one key are applied in the order they came.
            for row in rows:
                if row["replayed_at"] is not None:
                    result.already_replayed.append(row["id"])
                    continue
                if row["error"].startswith(FORGED):
                    result.forged.append(row["id"])
                    continue
                subscription = subscriptions.get(row["consumer"])
                if subscription is None:
                    result.failed.append(NotReplayed(id=row["id"], error=f"no consumer {row['consumer']!r} here"))
                    continue
                try:
                    async with conn.transaction():  # a savepoint: one failing row undoes only itself
                        done = await consumers.replay(conn, subscription, row)
                except Exception as exc:
                    if transient(exc):
                        raise  # the database away: the whole request fails, nothing marked
                    error = f"{type(exc).__name__}: {exc}"[:4000]
                    result.failed.append(NotReplayed(id=row["id"], error=error))
                    continue
                if not done.applied:
                    await conn.execute("UPDATE dead_letters SET error = $2 WHERE id = $1", row["id"], done.error)
                    result.still_poison.append(NotReplayed(id=row["id"], error=done.error or ""))
                    continue
                result.replayed.append(row["id"])
                if done.then is not None:
                    after_commit.append(done.then)
            if result.replayed:
                await conn.execute(
                    "UPDATE dead_letters SET replayed_at = now() WHERE id = ANY($1::bigint[])", result.replayed
                )
        for then in after_commit:
            then()
        return result

    return router


def _shown(row: asyncpg.Record) -> DeadLetter:
    return DeadLetter(
        id=row["id"],
        consumer=row["consumer"],
        topic=row["topic"],
        partition=row["partition"],
        offset=row["offset"],
        key=row["key"],
        error=row["error"],
        value=bytes(row["value"]).decode(errors="replace")[:VALUE_SHOWN],
        created_at=row["created_at"].isoformat(),
        replayed_at=row["replayed_at"].isoformat() if row["replayed_at"] else None,
    )
