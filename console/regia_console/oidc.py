"""Logging in with an OpenID Connect provider (SPID/CIE through a regional gateway, or an
organisation's own identity provider): the authorisation-code flow with PKCE (S256), state
and nonce, as a confidential client.

1. `/login/oidc` makes a state, a nonce and a PKCE verifier, keeps them server-side under a
   random id (a cookie of the browser that started the flow, SameSite=Lax because the
   provider's redirect back is a cross-site navigation), and sends the browser to the
   provider's authorisation endpoint (read from the issuer's discovery document).
2. The provider sends the browser back to `/login/oidc/callback` with a code and the state:
   the state must be the flow's (authlib checks it), the code is exchanged at the token
   endpoint with the verifier and the client's secret (HTTP Basic), and the ID token is
   handed to the partners service (`POST /v1/sessions/oidc` with the nonce), which checks
   its signature against the provider's keys, its issuer, audience, expiry and nonce, and
   finds the account whose `oidc_subject` is its `sub`. The console trusts no claim of the
   ID token itself: partners' answer is what logs the person in.

authlib encodes the protocol (the authorisation URL, the token request, the callback's
parsing and state check, the S256 challenge); the two HTTP calls go through httpx like
every other call of the console (authlib's own httpx client is deprecated in favour of a
package Regia does not use: docs/hand-written.md).
"""

import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import parameters
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from .sessions import PendingOidc

DISCOVERY_TTL_S = 3600.0


class OidcFailed(Exception):
    """The flow did not end in an ID token; the message says why (safe to log, no secret)."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid"


class OidcClient:
    def __init__(self, provider: Provider, http: httpx.AsyncClient) -> None:
        self.provider, self.http = provider, http
        self._discovered: tuple[float, dict[str, Any]] | None = None

    async def metadata(self) -> dict[str, Any]:
        """The issuer's discovery document, kept an hour. Its `issuer` must be the one
        configured (OpenID Connect Discovery 1.0, 4.3): a document served for another
        issuer is refused."""
        if self._discovered and self._discovered[0] > time.monotonic():
            return self._discovered[1]
        url = f"{self.provider.issuer.rstrip('/')}/.well-known/openid-configuration"
        try:
            answer = await self.http.get(url, timeout=10.0)
            answer.raise_for_status()
            found = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcFailed(
                f"the identity provider's discovery document could not be read: {type(exc).__name__}"
            ) from None
        if not isinstance(found, dict) or str(found.get("issuer", "")).rstrip("/") != self.provider.issuer.rstrip("/"):
            raise OidcFailed("the identity provider's discovery document names another issuer")
        for needed in ("authorization_endpoint", "token_endpoint"):
            if not isinstance(found.get(needed), str):
                raise OidcFailed(f"the identity provider's discovery document has no {needed}")
        self._discovered = (time.monotonic() + DISCOVERY_TTL_S, found)
        return found

    async def begin(self, redirect_uri: str, next_path: str) -> tuple[str, PendingOidc]:
        """The URL to send the browser to, and what the callback must match."""
        meta = await self.metadata()
        pending = PendingOidc(
            state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(64), next=next_path
        )
        url = parameters.prepare_grant_uri(
            meta["authorization_endpoint"],
            self.provider.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=self.provider.scopes,
            state=pending.state,
            nonce=pending.nonce,
            code_challenge=create_s256_code_challenge(pending.code_verifier),
            code_challenge_method="S256",
        )
        return url, pending

    async def finish(self, callback_url: str, pending: PendingOidc, redirect_uri: str) -> str:
        """The ID token for the callback's code, once its state is checked."""
        try:
            given = parameters.parse_authorization_code_response(callback_url, state=pending.state)
        except OAuth2Error as exc:
            raise OidcFailed(f"the identity provider's answer was refused: {exc.error}") from None
        meta = await self.metadata()
        body = parameters.prepare_token_request(
            "authorization_code", code=given["code"], redirect_uri=redirect_uri, code_verifier=pending.code_verifier
        )
        try:
            answer = await self.http.post(
                meta["token_endpoint"],
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                auth=(self.provider.client_id, self.provider.client_secret),
                timeout=10.0,
            )
        except httpx.HTTPError as exc:
            raise OidcFailed(f"the identity provider's token endpoint did not answer: {type(exc).__name__}") from None
        try:
            token = answer.json()
        except ValueError:
            token = None
        if answer.status_code != 200 or not isinstance(token, dict):
            error = token.get("error") if isinstance(token, dict) else None
            raise OidcFailed(f"the identity provider refused the code ({answer.status_code} {error or ''})".strip())
        id_token = token.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise OidcFailed("the identity provider gave no ID token (is the scope openid?)")
        return id_token
