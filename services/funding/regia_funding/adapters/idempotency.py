"""asyncpg adapter for Idempotency-Key records."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from pydantic_core import to_json

from ..domain.batch import Earlier, Key


# Not a domain refusal (so not in domain/errors.py): a race signal that never reaches a caller;
# group commit runs the transaction again on it, a Kafka batch is rolled back and redelivered.
class KeyTakenConcurrently(Exception):
    """Another transaction recorded one of these keys after this one looked: this
    transaction must roll back and run again, when it will find that key's record."""


async def recorded(conn: asyncpg.Connection, keys: Sequence[Key]) -> dict[Key, Earlier]:
    """The records of the keys that were already used, in one statement."""
    if not keys:
        return {}
    rows = await conn.fetch(
        "SELECT i.institution_id, i.space, i.idempotency_key, i.request_sha256, i.status_code, i.response"
        " FROM idempotency_keys i JOIN unnest($1::text[], $2::text[], $3::text[])"
        " AS k(institution_id, space, idempotency_key) USING (institution_id, space, idempotency_key)",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
    )
    return {
        (r["institution_id"], r["space"], r["idempotency_key"]): Earlier(
            r["request_sha256"], r["status_code"], _json(r["response"])
        )
        for r in rows
    }


async def record(conn: asyncpg.Connection, done: Mapping[Key, tuple[str, int, dict]]) -> None:
    """Record each accepted request's key with its fingerprint and answer, in one statement.

    The keys were looked up (`recorded`) before the requests were decided, without a lock,
    so a concurrent request may have taken one since: the insert then waits for it on the
    primary key, finds it committed and skips it, and that is raised. Inserted in sorted
    order, after the lines are locked, as every writer of keys does: no deadlock."""
    if not done:
        return
    keys = sorted(done)
    inserted = await conn.fetch(
        "INSERT INTO idempotency_keys (institution_id, space, idempotency_key, request_sha256, status_code,"
        " response)"
        " SELECT d.institution_id, d.space, d.idempotency_key, d.sha, d.status, d.response::jsonb"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[])"
        " WITH ORDINALITY AS d(institution_id, space, idempotency_key, sha, status, response, n) ORDER BY d.n"
        " ON CONFLICT DO NOTHING RETURNING 1",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [done[k][0] for k in keys],
        [done[k][1] for k in keys],
        [to_json(done[k][2]).decode() for k in keys],  # pydantic's Rust encoder: a fifth of json.dumps's time
    )
    if len(inserted) != len(keys):
        raise KeyTakenConcurrently(f"{len(keys) - len(inserted)} Idempotency-Key(s) taken by a concurrent request")


def _json(value: str | Mapping[str, Any]) -> dict[str, Any]:
    """A jsonb column: its text, or the mapping a connection's jsonb codec decoded it to."""
    return json.loads(value) if isinstance(value, str) else dict(value)
