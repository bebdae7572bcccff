"""People's accounts and sessions in PostgreSQL (migration 0009)."""

from collections.abc import Sequence
from datetime import datetime

import asyncpg

PUBLIC_COLUMNS = (
    "account_id, name, email, role, institution_id, partner_id, contact_id, oidc_subject,"
    " totp_secret IS NOT NULL AS totp_enabled, password_hash IS NOT NULL AS has_password,"
    " disabled_at, locked_until, created_at, changed_at"
)


async def create(conn: asyncpg.Connection, values: dict) -> bool:
    """False when the id is taken."""
    row = await conn.fetchrow(
        "INSERT INTO accounts (account_id, name, email, role, institution_id, partner_id, contact_id,"
        " password_hash, oidc_issuer, oidc_subject)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (account_id) DO NOTHING RETURNING 1",
        values["account_id"],
        values["name"],
        values["email"],
        values["role"],
        values["institution_id"],
        values["partner_id"],
        values["contact_id"],
        values["password_hash"],
        values["oidc_issuer"],
        values["oidc_subject"],
    )
    return row is not None


async def get(conn: asyncpg.Connection, account_id: str, *, lock: bool = False) -> asyncpg.Record | None:
    suffix = " FOR UPDATE" if lock else ""
    return await conn.fetchrow(f"SELECT * FROM accounts WHERE account_id = $1{suffix}", account_id)


async def by_oidc(conn: asyncpg.Connection, issuer: str, subject: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM accounts WHERE oidc_issuer = $1 AND oidc_subject = $2 FOR UPDATE", issuer, subject
    )


async def shown(conn: asyncpg.Connection, account_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {PUBLIC_COLUMNS} FROM accounts WHERE account_id = $1", account_id)


async def listing(conn: asyncpg.Connection, after: Sequence | None, limit: int) -> list[dict]:
    rows = await conn.fetch(
        f"SELECT {PUBLIC_COLUMNS} FROM accounts WHERE ($1::text IS NULL OR account_id > $1)"
        " ORDER BY account_id LIMIT $2",
        after[0] if after else None,
        limit,
    )
    return [dict(r) for r in rows]


async def update(conn: asyncpg.Connection, account_id: str, changes: dict) -> None:
    """`changes`: column -> value, columns from this module's callers only (never a request's keys)."""
    allowed = {
        "name",
        "role",
        "institution_id",
        "partner_id",
        "contact_id",
        "disabled_at",
        "password_hash",
        "totp_secret",
        "totp_pending",
        "totp_last_step",
        "failed_logins",
        "locked_until",
    }
    assert set(changes) <= allowed, set(changes) - allowed
    columns = list(changes)
    assignments = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(columns))
    await conn.execute(
        f"UPDATE accounts SET {assignments}, changed_at = now() WHERE account_id = $1",
        account_id,
        *[changes[c] for c in columns],
    )


async def record_failure(
    conn: asyncpg.Connection, account_id: str, failures: int, locked_until: datetime | None
) -> None:
    await conn.execute(
        "UPDATE accounts SET failed_logins = $2, locked_until = $3 WHERE account_id = $1",
        account_id,
        failures,
        locked_until,
    )


async def record_success(conn: asyncpg.Connection, account_id: str) -> None:
    await conn.execute(
        "UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE account_id = $1 AND failed_logins > 0",
        account_id,
    )


async def open_session(
    conn: asyncpg.Connection,
    session_id: str,
    account_id: str,
    refresh_sha256: str,
    method: str,
    expires_at: datetime,
    client_address: str | None,
    user_agent: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO account_sessions (session_id, account_id, refresh_sha256, method, expires_at,"
        " client_address, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        session_id,
        account_id,
        refresh_sha256,
        method,
        expires_at,
        client_address,
        user_agent,
    )


async def session(conn: asyncpg.Connection, session_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM account_sessions WHERE session_id = $1 FOR UPDATE", session_id)


async def renew_session(conn: asyncpg.Connection, session_id: str, refresh_sha256: str, expires_at: datetime) -> None:
    await conn.execute(
        "UPDATE account_sessions SET refresh_sha256 = $2, refreshed_at = now(), expires_at = $3 WHERE session_id = $1",
        session_id,
        refresh_sha256,
        expires_at,
    )


async def end_session(conn: asyncpg.Connection, session_id: str, why: str) -> bool:
    row = await conn.fetchrow(
        "UPDATE account_sessions SET ended_at = now(), ended_why = $2"
        " WHERE session_id = $1 AND ended_at IS NULL RETURNING 1",
        session_id,
        why,
    )
    return row is not None


async def end_sessions(conn: asyncpg.Connection, account_id: str, why: str) -> int:
    """Every open session of the account; how many there were."""
    rows = await conn.fetch(
        "UPDATE account_sessions SET ended_at = now(), ended_why = $2"
        " WHERE account_id = $1 AND ended_at IS NULL RETURNING 1",
        account_id,
        why,
    )
    return len(rows)


async def open_sessions(conn: asyncpg.Connection, account_id: str) -> list[dict]:
    rows = await conn.fetch(
        "SELECT session_id, method, created_at, refreshed_at, expires_at, client_address, user_agent"
        " FROM account_sessions WHERE account_id = $1 AND ended_at IS NULL AND expires_at > now()"
        " ORDER BY created_at DESC",
        account_id,
    )
    return [dict(r) for r in rows]
