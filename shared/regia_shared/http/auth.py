"""Secrets are compared by their SHA-256 in constant time and never stored in clear.

API keys and the admin token are 256-bit random strings, so a fast hash is enough: there
is no low-entropy password to protect against brute force.
"""

import hashlib
import hmac
import secrets

from fastapi import HTTPException, Request, status


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


def require_admin(request: Request) -> None:
    """FastAPI dependency: the request carries the administrators' token."""
    expected = request.app.state.settings.admin_token_sha256
    token = bearer_token(request)
    if expected is None or not secret_matches(token, expected.get_secret_value()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="invalid admin credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
