"""A small OpenID Connect provider on a real TCP port, for the console's login through one:
discovery, JWKS, an authorisation endpoint that logs in one test user at once and sends
the browser back with a code, and a token endpoint that checks the client's secret, the
code (once), the redirect URI and the PKCE verifier, and issues an RS256-signed ID token
carrying the nonce. What it was asked is kept for the test to read."""

import base64
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .services import RunningService, in_process

CLIENT_ID = "regia-console"
CLIENT_SECRET = "test-oidc-client-secret"
TEST_USER_SUB = "TINIT-RSSMRA80A01E463K"  # a SPID-like subject: the fiscal code


@dataclass
class Provider:
    """The provider's state: its key, the codes it issued, what it was asked."""

    issuer: str = ""
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    kid: str = "test-rsa-1"
    codes: dict[str, dict] = field(default_factory=dict)
    authorize_requests: list[dict] = field(default_factory=list)
    token_requests: list[dict] = field(default_factory=list)
    sub: str = TEST_USER_SUB

    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [public | {"kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": self.sub, "iat": now, "exp": now + 300}
        claims |= {"nonce": nonce} if nonce else {}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def provider_app(provider: Provider) -> Starlette:
    async def discovery(request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": provider.issuer,
                "authorization_endpoint": f"{provider.issuer}/authorize",
                "token_endpoint": f"{provider.issuer}/token",
                "jwks_uri": f"{provider.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse(provider.jwks())

    async def authorize(request: Request) -> Response:
        asked = dict(request.query_params)
        provider.authorize_requests.append(asked)
        if asked.get("client_id") != CLIENT_ID or asked.get("response_type") != "code":
            return JSONResponse({"error": "unauthorized_client"}, 400)
        if asked.get("code_challenge_method") != "S256" or not asked.get("code_challenge"):
            return JSONResponse({"error": "invalid_request", "error_description": "PKCE S256 required"}, 400)
        code = secrets.token_urlsafe(24)
        provider.codes[code] = asked
        back = {"code": code, "state": asked.get("state", ""), "iss": provider.issuer}
        return RedirectResponse(f"{asked['redirect_uri']}?{urlencode(back)}", status_code=302)

    async def token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        provider.token_requests.append({k: v for k, v in form.items() if k != "code_verifier"})
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        client = base64.b64decode(encoded).decode() if scheme.lower() == "basic" else ""
        if client != f"{CLIENT_ID}:{CLIENT_SECRET}":
            return JSONResponse({"error": "invalid_client"}, 401)
        asked = provider.codes.pop(str(form.get("code", "")), None)  # a code is good once
        if asked is None or form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "invalid_grant"}, 400)
        if form.get("redirect_uri") != asked.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri"}, 400)
        if s256(str(form.get("code_verifier", ""))) != asked.get("code_challenge"):
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": provider.id_token(asked.get("nonce")),
            },
            headers={"Cache-Control": "no-store"},
        )

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
            Route("/authorize", authorize),
            Route("/token", token, methods=["POST"]),
        ]
    )


@contextlib.asynccontextmanager
async def oidc_provider() -> AsyncIterator[tuple[Provider, RunningService]]:
    """The provider, listening on a free port of 127.0.0.1 in the test's event loop."""
    provider = Provider()
    app = provider_app(provider)
    async with in_process("oidc-provider", lambda: app) as running:  # type: ignore[arg-type, return-value]
        provider.issuer = running.url
        yield provider, running
