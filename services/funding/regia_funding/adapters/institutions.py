"""asyncpg adapter for the institutions projection and their API keys."""

import asyncpg

from regia_shared.contracts.levels import GovernmentLevel


async def upsert(conn: asyncpg.Connection, institution_id: str, name: str, level: GovernmentLevel) -> None:
    await conn.execute(
        "INSERT INTO institutions (institution_id, name, level) VALUES ($1, $2, $3)"
        " ON CONFLICT (institution_id) DO UPDATE SET name = EXCLUDED.name,"
        " level = EXCLUDED.level, updated_at = now()",
        institution_id,
        name,
        level.value,
    )


async def level_of(conn: asyncpg.Connection, institution_id: str) -> GovernmentLevel | None:
    level = await conn.fetchval("SELECT level FROM institutions WHERE institution_id = $1", institution_id)
    return GovernmentLevel(level) if level else None


async def exists(conn: asyncpg.Connection, institution_id: str) -> bool:
    return await level_of(conn, institution_id) is not None


async def add_key(
    conn: asyncpg.Connection,
    key_id: str,
    institution_id: str,
    key_sha256: str,
    label: str | None,
    instruments: list[str] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO api_keys (key_id, institution_id, key_sha256, label, instruments) VALUES ($1, $2, $3, $4, $5)",
        key_id,
        institution_id,
        key_sha256,
        label,
        instruments,
    )


async def key(conn: asyncpg.Connection, key_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT key_id, institution_id, key_sha256, instruments, revoked_at FROM api_keys WHERE key_id = $1", key_id
    )


async def keys_of(conn: asyncpg.Connection, institution_id: str) -> list[dict]:
    rows = await conn.fetch(
        "SELECT key_id, label, instruments, created_at, revoked_at FROM api_keys WHERE institution_id = $1"
        " ORDER BY created_at",
        institution_id,
    )
    return [dict(r) for r in rows]


async def revoke_key(conn: asyncpg.Connection, key_id: str) -> bool:
    status = await conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL", key_id
    )
    return status.endswith(" 1")


async def all_institutions(conn: asyncpg.Connection) -> list[dict]:
    rows = await conn.fetch("SELECT institution_id, name, level FROM institutions ORDER BY institution_id")
    return [dict(r) for r in rows]
