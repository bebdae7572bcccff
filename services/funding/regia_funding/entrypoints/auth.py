"""Who is calling: an institution by its API key, or an administrator.

A key reads `rgk_<key_id>.<secret>`: the id finds the row, the SHA-256 of the whole key is
compared in constant time. Every failure gets the same 401 so a caller learns nothing about
which keys exist.
"""

from contextlib import AbstractAsyncContextManager
from typing import Protocol

import asyncpg
from fastapi import HTTPException, Request, status

from regia_shared.http.audit import set_actor
from regia_shared.http.auth import AdminTokenScheme, InstitutionKeyScheme, bearer_token, hash_secret, secret_matches
from regia_shared.http.dependencies import DatabasePool

from ..adapters import institutions
from ..service_layer.recording import Caller

KEY_PREFIX = "rgk_"


class ConnectionSource(Protocol):
    """What a key lookup reads through: the pool, or the Kafka batch's own connection."""

    def acquire(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...


def format_key(key_id: str, secret: str) -> str:
    return f"{KEY_PREFIX}{key_id}.{secret}"


def _unauthorized() -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail="invalid API key", headers={"WWW-Authenticate": "Bearer"})


async def caller_for_key(pool: ConnectionSource, token: str, channel: str = "http") -> Caller | None:
    """The institution a key belongs to, or None for a malformed, unknown or revoked key."""
    key_id, dot, _ = token.removeprefix(KEY_PREFIX).partition(".")
    if not token.startswith(KEY_PREFIX) or not dot or not key_id:
        return None
    async with pool.acquire() as conn:
        row = await institutions.key(conn, key_id)
    if row is None or row["revoked_at"] is not None or not secret_matches(token, row["key_sha256"]):
        return None
    scope = frozenset(row["instruments"]) if row["instruments"] is not None else None
    return Caller(institution_id=row["institution_id"], key_id=key_id, channel=channel, instruments=scope)


async def institution_caller(request: Request, pool: DatabasePool, _: InstitutionKeyScheme = None) -> Caller:
    """FastAPI dependency: the institution whose key the request carries (declared in the
    OpenAPI document as the institutionKey scheme by the unused last parameter)."""
    caller = await caller_for_key(pool, bearer_token(request))
    if caller is None:
        raise _unauthorized()
    # Known from here on, even if the body is then refused: audited as the key's, and never
    # throttled as an anonymous caller (regia_shared.http.audit).
    set_actor(request, f"key:{caller.key_id}")
    return caller


async def institution_or_admin(
    request: Request, pool: DatabasePool, _key: InstitutionKeyScheme = None, _admin: AdminTokenScheme = None
) -> Caller | None:
    """An institution caller, or None for a valid admin token."""
    token = bearer_token(request)
    expected = request.app.state.settings.admin_token_sha256
    if not token.startswith(KEY_PREFIX):
        if expected is not None and secret_matches(token, expected.get_secret_value()):
            return None
        raise _unauthorized()
    return await institution_caller(request, pool)


__all__ = ["caller_for_key", "format_key", "hash_secret", "institution_caller", "institution_or_admin"]
