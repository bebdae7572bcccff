"""Who is calling: an institution by its API key, or a person by their session (an
institution officer sees what their institution's keys see; administrators and observers
see every institution's), or the administrators' token.

A key reads `rgk_<key_id>.<secret>`: the id finds the row, the SHA-256 of the whole key is
compared in constant time. Every failure gets the same 401 so a caller learns nothing about
which keys exist.
"""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Protocol

import asyncpg
from fastapi import HTTPException, Request, status

from regia_shared.http.audit import set_actor
from regia_shared.http.auth import (
    ADMINISTRATORS,
    Access,
    AdminTokenScheme,
    Allow,
    InstitutionKeyScheme,
    PersonSessionScheme,
    Principal,
    bearer_token,
    hash_secret,
    principal_for,
    remember,
    secret_matches,
)
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.identity import Role, looks_like_session_token

from ..adapters import institutions
from ..service_layer.recording import Caller
from .verified_keys import VerifiedKeys

KEY_PREFIX = "rgk_"


class ConnectionSource(Protocol):
    """What a key lookup reads through: the pool, or the Kafka batch's own connection."""

    def acquire(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...


def format_key(key_id: str, secret: str) -> str:
    return f"{KEY_PREFIX}{key_id}.{secret}"


def _unauthorized() -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail="invalid API key", headers={"WWW-Authenticate": "Bearer"})


async def caller_for_key(
    pool: ConnectionSource, token: str, channel: str = "http", memory: VerifiedKeys | None = None
) -> Caller | None:
    """The institution a key belongs to, or None for a malformed, unknown or revoked key.
    With a `memory`, a key it verified lately is not read again (see verified_keys for
    why only writes that check revocation again may pass one)."""
    key_id, dot, _ = token.removeprefix(KEY_PREFIX).partition(".")
    if not token.startswith(KEY_PREFIX) or not dot or not key_id:
        return None
    if memory is not None and (known := memory.caller(key_id, token)) is not None:
        return known if known.channel == channel else replace(known, channel=channel)
    async with pool.acquire() as conn:
        row = await institutions.key(conn, key_id)
    if row is None or row["revoked_at"] is not None or not secret_matches(token, row["key_sha256"]):
        return None
    scope = frozenset(row["instruments"]) if row["instruments"] is not None else None
    caller = Caller(institution_id=row["institution_id"], key_id=key_id, channel=channel, instruments=scope)
    if memory is not None:
        memory.remember(key_id, row["key_sha256"], caller)
    return caller


async def institution_caller(
    request: Request, pool: DatabasePool, _: InstitutionKeyScheme = None, _session: PersonSessionScheme = None
) -> Caller:
    """FastAPI dependency: the institution whose key the request carries, or one of its
    officers by their session (a person recording a cut by hand: the audit names them).
    Declared in the OpenAPI document as the institutionKey and personSession schemes by the
    unused last parameters."""
    return await _institution_caller(request, pool, None)


def institution_writer(memory: VerifiedKeys) -> Callable[..., Awaitable[Caller]]:
    """`institution_caller` for the routes that record funding events, whose keys may come
    from `memory`: their transaction checks the key's revocation again."""

    async def writer(
        request: Request, pool: DatabasePool, _: InstitutionKeyScheme = None, _session: PersonSessionScheme = None
    ) -> Caller:
        return await _institution_caller(request, pool, memory)

    return writer


async def _institution_caller(request: Request, pool: DatabasePool, memory: VerifiedKeys | None) -> Caller:
    token = bearer_token(request)
    if looks_like_session_token(token):
        principal = principal_for(request, token)
        if principal is None:
            raise _unauthorized()
        remember(request, principal)
        if principal.role is not Role.INSTITUTION_OFFICER or principal.institution_id is None:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="funding events come from an institution: its API key, or one of its officers "
                f"(a person with the role {principal.role.value} may not send them)",
            )
        return Caller(institution_id=principal.institution_id, key_id=None)
    caller = await caller_for_key(pool, token, memory=memory)
    if caller is None:
        raise _unauthorized()
    # Known from here on, even if the body is then refused: audited as the key's, and never
    # throttled as an anonymous caller (regia_shared.http.audit).
    set_actor(request, f"key:{caller.key_id}")
    return caller


async def institution_or_admin(
    request: Request,
    pool: DatabasePool,
    _key: InstitutionKeyScheme = None,
    _admin: AdminTokenScheme = None,
    _session: PersonSessionScheme = None,
) -> Caller | None:
    """An institution caller (by its key, or one of its officers), or None for someone who
    sees every institution's: an administrator (person or token) or an observer."""
    token = bearer_token(request)
    if token.startswith(KEY_PREFIX):
        return await institution_caller(request, pool)
    principal = principal_for(request, token)
    if principal is None:
        raise _unauthorized()
    remember(request, principal)
    return scope_of(principal)


def scope_of(principal: Principal) -> Caller | None:
    """What a person sees of funding's operational data: their institution's, or all."""
    if principal.role is Role.INSTITUTION_OFFICER and principal.institution_id is not None:
        return Caller(institution_id=principal.institution_id, key_id=None)
    if principal.role in {Role.ADMINISTRATOR, Role.OBSERVER}:
        return None
    raise HTTPException(
        status.HTTP_403_FORBIDDEN,
        detail=f"a person with the role {principal.role.value} does not see funding's operational data "
        "(the open data at /v1/open/ is for everyone)",
    )


# An institution's keys: administrators for any institution, its officers for their own
# (they rotate them); observers read the list.
KEY_KEEPERS = Allow(Access.INSTITUTION, ADMINISTRATORS | {Role.INSTITUTION_OFFICER}, frozenset({Role.OBSERVER}))


def own_institution(principal: Principal, institution_id: str) -> None:
    """An institution officer acts on their own institution only."""
    if principal.role is Role.INSTITUTION_OFFICER and principal.institution_id != institution_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"you act for {principal.institution_id!r}, not for {institution_id!r}",
        )


__all__ = [
    "KEY_KEEPERS",
    "caller_for_key",
    "format_key",
    "hash_secret",
    "institution_caller",
    "institution_or_admin",
    "institution_writer",
    "own_institution",
    "scope_of",
]
