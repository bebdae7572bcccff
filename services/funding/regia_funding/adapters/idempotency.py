"""asyncpg adapter for Idempotency-Key records."""

import json
from collections.abc import Mapping, Sequence

import asyncpg

from ..domain.batch import Earlier, Key


async def claim(conn: asyncpg.Connection, keys: Mapping[Key, str]) -> dict[Key, Earlier]:
    """Reserve every key (with the fingerprint of its request) in the caller's transaction,
    in one statement; returns the records of the keys that were already there.

    A concurrent request holding one of these keys makes this wait on the primary key until
    its transaction ends, then finds its record (or, after its rollback, claims the key).
    Keys are claimed in sorted order so two batches sharing keys cannot deadlock."""
    if not keys:
        return {}
    ordered = sorted(keys)
    claimed = await conn.fetch(
        "INSERT INTO idempotency_keys (institution_id, idempotency_key, request_sha256, status_code, response)"
        " SELECT k.institution_id, k.idempotency_key, k.sha, 0, '{}' FROM unnest($1::text[], $2::text[], $3::text[])"
        " WITH ORDINALITY AS k(institution_id, idempotency_key, sha, n) ORDER BY k.n"
        " ON CONFLICT DO NOTHING RETURNING institution_id, idempotency_key",
        [k[0] for k in ordered], [k[1] for k in ordered], [keys[k] for k in ordered])
    new = {(r["institution_id"], r["idempotency_key"]) for r in claimed}
    taken = [k for k in ordered if k not in new]
    if not taken:
        return {}
    rows = await conn.fetch(
        "SELECT i.institution_id, i.idempotency_key, i.request_sha256, i.status_code, i.response"
        " FROM idempotency_keys i JOIN unnest($1::text[], $2::text[]) AS k(institution_id, idempotency_key)"
        " USING (institution_id, idempotency_key)", [k[0] for k in taken], [k[1] for k in taken])
    return {(r["institution_id"], r["idempotency_key"]): Earlier(r["request_sha256"], r["status_code"],
                                                               _json(r["response"])) for r in rows}


async def complete(conn: asyncpg.Connection, done: Mapping[Key, tuple[str, int, dict]]) -> None:
    """Record what each accepted key's request was (its fingerprint) and what it answered."""
    if not done:
        return
    keys = list(done)
    await conn.execute(
        "UPDATE idempotency_keys i SET request_sha256 = d.sha, status_code = d.status, response = d.response::jsonb"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[])"
        " AS d(institution_id, idempotency_key, sha, status, response)"
        " WHERE i.institution_id = d.institution_id AND i.idempotency_key = d.idempotency_key",
        [k[0] for k in keys], [k[1] for k in keys], [done[k][0] for k in keys], [done[k][1] for k in keys],
        [json.dumps(done[k][2]) for k in keys])


async def release(conn: asyncpg.Connection, keys: Sequence[Key]) -> None:
    """Give back keys claimed in this transaction whose requests were all refused: a
    refused request leaves no trace, so the same key may be sent again, corrected."""
    if not keys:
        return
    await conn.execute(
        "DELETE FROM idempotency_keys i USING unnest($1::text[], $2::text[]) AS k(institution_id, idempotency_key)"
        " WHERE i.institution_id = k.institution_id AND i.idempotency_key = k.idempotency_key",
        [k[0] for k in keys], [k[1] for k in keys])


def _json(value: object) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value)  # type: ignore[arg-type]
