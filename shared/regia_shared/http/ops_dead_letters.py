"""Poison messages on every service: GET /v1/ops/dead-letters (paged) and
POST /v1/ops/dead-letters/replay.

A consumer sets a record it cannot read aside in `dead_letters` (and on its DLQ topic) and
moves on (consumer.py). Once the cause is fixed (a consumer deployed that reads the new
version, a producer corrected), an operator replays the stored records: each is published
again, with its key, to the topic it came from, so it goes through the consumer's normal
path (decode, inbox, apply in one transaction). A header names the consumer the replay is
for; the other consumers of the topic skip it, so a replay for one of them never sets
anything aside again in another. A record that is still poison is dead-lettered again (a
new row); one already applied is a duplicate for the inbox. The row is marked
`replayed_at` in the transaction that published it: a crash between the publish and the
commit leaves it unmarked, and replaying it again changes nothing, by the inbox.

A record of a signed topic goes back signed, or its consumer would refuse it as forged:
the dead letter keeps the value and the key, not the headers, so the replay signs them
again with the topic owner's key (the one the consumer verifies with, which this service
holds for that reason). That is sound because every record was verified before it was set
aside for any other reason; a record set aside *as* forged is never signed nor replayed
(listed in `forged`): replaying it would make Regia vouch for what an outsider wrote.
"""

from collections.abc import Callable
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Query
from faststream.kafka import KafkaBroker
from pydantic import BaseModel, Field, model_validator

from regia_shared.http.auth import require_admin
from regia_shared.http.paging import Page, Paged, bigint
from regia_shared.messaging import signing

# The header a replayed record carries: the consumer it is replayed for, and the row.
REPLAY_FOR = "regia-replay-for"
REPLAY_OF = "regia-replay-of"
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


class ReplayResult(BaseModel):
    replayed: list[int] = Field(description="Published again to their topics")
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
        """Publish dead letters again to their topics, for their consumer to apply now that
        the cause is fixed. Safe to repeat: a replayed row is left alone, and an event the
        consumer already applied is a duplicate its inbox ignores."""
        result = ReplayResult(replayed=[])
        async with pool().acquire() as conn, conn.transaction():
            if body.all:
                rows = await conn.fetch(
                    "SELECT id, consumer, topic, key, value, error, replayed_at FROM dead_letters"
                    " WHERE replayed_at IS NULL AND ($1::text IS NULL OR consumer = $1)"
                    " ORDER BY id FOR UPDATE",
                    body.consumer,
                )
            else:
                rows = await conn.fetch(
                    "SELECT id, consumer, topic, key, value, error, replayed_at FROM dead_letters"
                    " WHERE id = ANY($1::bigint[]) AND ($2::text IS NULL OR consumer = $2)"
                    " ORDER BY id FOR UPDATE",
                    body.ids,
                    body.consumer,
                )
                found = {r["id"] for r in rows}
                result.unknown = [i for i in dict.fromkeys(body.ids or []) if i not in found]
            for row in rows:
                if row["replayed_at"] is not None:
                    result.already_replayed.append(row["id"])
                    continue
                if row["error"].startswith(FORGED):
                    result.forged.append(row["id"])
                    continue
                value, key = bytes(row["value"]), row["key"].encode() if row["key"] is not None else None
                headers = {REPLAY_FOR: row["consumer"], REPLAY_OF: str(row["id"])}
                if (signer := signing.owner(row["topic"])) is not None:
                    headers[signing.HEADER] = signing.keys_of(broker).sign(signer, row["topic"], key, value)
                # In id order, so records of one key go back in the order they came.
                await broker.publish(value, topic=row["topic"], key=key, headers=headers)
                result.replayed.append(row["id"])
            if result.replayed:
                await conn.execute(
                    "UPDATE dead_letters SET replayed_at = now() WHERE id = ANY($1::bigint[])", result.replayed
                )
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
