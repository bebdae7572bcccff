"""Secrets are compared by their SHA-256 in constant time and never stored in clear.

API keys and the admin token are 256-bit random strings, so a fast hash is enough: there
is no low-entropy password to protect against brute force.
"""

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

# The credentials a Regia service reads, all sent as `Authorization: Bearer <credential>`.
# Declared as FastAPI security schemes so that the OpenAPI document lists, per operation,
# the credential its route checks. They check nothing themselves (auto_error=False): the
# code below and the services' own dependencies do, with the one error shape.
ADMIN_TOKEN = HTTPBearer(
    scheme_name="adminToken",
    description="The administrators' token (REGIA_ADMIN_TOKEN_SHA256 holds its SHA-256)",
    auto_error=False,
)
INSTITUTION_KEY = HTTPBearer(
    scheme_name="institutionKey",
    bearerFormat="rgk_<key_id>.<secret>",
    description="An institution's API key, issued by POST /v1/institutions/{id}/keys (funding)",
    auto_error=False,
)
PREFERENCE_LINK = HTTPBearer(
    scheme_name="preferenceLink",
    description="The signed token of an e-mail's unsubscribe or preferences link",
    auto_error=False,
)
AdminTokenScheme = Annotated[HTTPAuthorizationCredentials | None, Security(ADMIN_TOKEN)]
InstitutionKeyScheme = Annotated[HTTPAuthorizationCredentials | None, Security(INSTITUTION_KEY)]
PreferenceLinkScheme = Annotated[HTTPAuthorizationCredentials | None, Security(PREFERENCE_LINK)]


# Where a request's verified actor is kept (request.state), for its audit rows
# (regia_shared.http.audit.set_actor writes it; defined here, which audit imports).
ACTOR_STATE = "audit_actor"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def secret_matches(secret: str, expected_sha256: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), expected_sha256)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing credentials: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def require_admin(request: Request, _: AdminTokenScheme) -> None:
    """FastAPI dependency: the request carries the administrators' token."""
    expected = request.app.state.settings.admin_token_sha256
    token = bearer_token(request)
    if expected is None or not secret_matches(token, expected.get_secret_value()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="invalid admin credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # Named for the audit (a write's in-transaction row takes its actor from here).
    if getattr(request.state, ACTOR_STATE, None) is None:
        setattr(request.state, ACTOR_STATE, "admin")
