"""asyncpg adapter for Idempotency-Key records."""

import json

import asyncpg


async def claim(conn: asyncpg.Connection, institution_id: str, key: str, request_sha256: str) -> asyncpg.Record | None:
    """Reserve the key in the caller's transaction. Returns None when it is new, else the
    earlier record. A concurrent request with the same key waits on the primary key until
    the first one's transaction ends, then sees its record (or, after a rollback, is new)."""
    inserted = await conn.fetchval(
        "INSERT INTO idempotency_keys (institution_id, idempotency_key, request_sha256, status_code, response)"
        " VALUES ($1, $2, $3, 0, '{}') ON CONFLICT DO NOTHING RETURNING 1",
        institution_id, key, request_sha256)
    if inserted:
        return None
    return await conn.fetchrow(
        "SELECT request_sha256, status_code, response FROM idempotency_keys"
        " WHERE institution_id = $1 AND idempotency_key = $2", institution_id, key)


async def complete(conn: asyncpg.Connection, institution_id: str, key: str, status_code: int, response: dict) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET status_code = $3, response = $4::jsonb"
        " WHERE institution_id = $1 AND idempotency_key = $2",
        institution_id, key, status_code, json.dumps(response))
