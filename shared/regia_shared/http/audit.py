"""The audit trail: every write request a service answers (any method but GET and HEAD),
refused ones included, is one row of `audit_log` in the service's schema, and
`GET /v1/audit?actor=&since=&limit=&cursor=` (admin) reads it, a page at a time.

A row says when, which route (its template) and path, the status, who — `admin`,
`key:<key_id>` for an institution key, or `anonymous`; never a secret — and from where.
The caller's address is the TCP peer, or, only when the peer is a proxy listed in
REGIA_TRUSTED_PROXIES (addresses or CIDR ranges, comma-separated), the nearest address in
X-Forwarded-For that is not a trusted proxy: a client cannot choose the address recorded
for it by sending the header itself.

Who the caller is comes from the code that checked the credential (`set_actor`, e.g. the
funding events endpoint once the key verified) or from the admin token, which the
middleware can check by its hash. A credential that did not verify leaves the actor
`anonymous` and records only the key id it claimed, in `claimed_actor`.

A write that changes money, plans, roles or rules has its own row, written by its use case
in the write's transaction (regia_shared.writes, with the channel, the reason and what it
changed): the middleware then writes none for it when it succeeds, and only its own row
(status, no effect) when it was refused or failed, which a rolled-back write left no row
for. Every other request's row, refused and failed ones included, is written here after
the response has been sent, together with the rows of the
requests answered at the same moment (one INSERT for the group): a failing audit insert is
logged and never fails (or delays) the request. The price is that a
process killed between the response and the insert loses that row (never the row of a
committed change to money, plans, roles or rules: that one committed with it). Rows carry
the channel `http`, the actor's display name when a person's account made the request, and
the reason of `X-Regia-Reason` when one was sent (regia_shared.http.writes).

Anonymous requests (no credential verified) that are refused are throttled per client
address (an IPv6 address counts with its /64, which one host holds whole):
REGIA_ANONYMOUS_BURST of them, refilled at REGIA_ANONYMOUS_RATE_PER_S, are answered as
usual and audited one row each; beyond that the address gets 429 with Retry-After, and
those requests are counted in one row per address per REGIA_AUDIT_ANONYMOUS_WINDOW_S
(`repeats`, from `at` to `last_at`; the method, route and path of the first, the route
`unrouted` when it was refused before routing), so a flood
of them grows the trail by a row per address per window, not a row per request. A write
sent with no credential at all is refused whatever the route (but logging in, declared
with `allow_anonymous_write`), so an address over its allowance gets that 429 before its
body is read. A request whose credential verifies is
never throttled here (an institution key has its own rate limit, regia_shared.http.ratelimit).
The buckets live in the replica's memory (see ratelimit for why).
"""

import ipaddress
import json
import re
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import unquote

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from regia_shared.http.auth import ACTOR_NAME_STATE, ACTOR_STATE, STAFF, secret_matches
from regia_shared.http.errors import error_body
from regia_shared.http.paging import Page, Paged, bigint
from regia_shared.http.ratelimit import Decision, TokenBuckets
from regia_shared.messaging.batching import Batcher
from regia_shared.observability.logs import get_logger
from regia_shared.writes import ReasonInvalid, checked_reason

log = get_logger(__name__)

READS = frozenset({"GET", "HEAD"})
MAX_PATH = 500
REQUEST_STATE = "audit_request"  # (request id, client address), for a WriteContext's row
WRITE_STATE = "audit_write"  # the WriteContext a use case recorded its row with
_SAFE_ID = re.compile(r"^[\x21-\x7e]{1,200}$")

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGIA_", extra="ignore")

    trusted_proxies: str = Field(
        "",
        description="Reverse proxies (addresses or CIDR ranges, comma-separated) whose "
        "X-Forwarded-For is believed for the caller's address; empty: none",
    )

    anonymous_rate_per_s: float = Field(
        0.2,
        gt=0,
        description="Refused anonymous requests (no credential verified) a client "
        "address may make per second once its burst is spent; beyond, 429 with Retry-After",
    )
    anonymous_burst: int = Field(
        20,
        ge=1,
        description="Refused anonymous requests a client address may make at once, each audited in a row of its own",
    )
    audit_anonymous_window_s: int = Field(
        60,
        ge=1,
        le=86_400,
        description="Throttled anonymous requests are audited as one row "
        "per client address per this many seconds, with their count",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @property
    def networks(self) -> tuple[IpNetwork, ...]:
        return parse_networks(self.trusted_proxies)


def parse_networks(value: str) -> tuple[IpNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in value.split(",") if p.strip())
    except ValueError as exc:
        raise ValueError(f"REGIA_TRUSTED_PROXIES: {exc}") from None


# Writes that are anonymous by nature (logging in): they are not refused for carrying no
# credential, so they are not charged before they are answered; a refused one is charged
# like any refused anonymous request (a failed login spends the address's allowance).
_ANONYMOUS_WRITES: set[str] = set()


def allow_anonymous_write(path: str) -> None:
    """Declare a write route that takes no credential (its exact path)."""
    _ANONYMOUS_WRITES.add(path)


def set_actor(request: Request, actor: str, name: str | None = None) -> None:
    """Record who a verified credential belongs to, for this request's audit row:
    `admin`, `key:<key_id>`, `person:<account_id>` (with `name`, the person's display name)."""
    setattr(request.state, ACTOR_STATE, actor)
    setattr(request.state, ACTOR_NAME_STATE, name)


def _header_reason(raw: str | None) -> str | None:
    """The decoded X-Regia-Reason of a request's row, None when absent or not a valid reason
    (a refused request's header is recorded only if it is one; regia_shared.http.writes)."""
    if raw is None:
        return None
    try:
        return checked_reason(unquote(raw, errors="strict"))
    except (UnicodeDecodeError, ReasonInvalid):
        return None


def client_address(peer: str | None, forwarded_for: list[str], trusted: tuple[IpNetwork, ...]) -> str | None:
    """The peer, or, walking X-Forwarded-For from the right while the hop we stand on is a
    trusted proxy, the first address no trusted proxy vouches beyond."""

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in trusted)

    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    address = peer
    while address is not None and hops and is_trusted(address):
        hop = hops.pop()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage a trusted proxy passed on: keep the last address we can vouch for
        address = hop
    return address


def bearer(headers: dict[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def claimed(token: str) -> str:
    """What a credential that did not verify claims to be, without any of its secret."""
    if token.startswith("rgk_"):
        key_id, dot, _ = token[4:].partition(".")
        if dot and key_id and _SAFE_ID.match(key_id):
            return f"key:{key_id[:100]}"
    return "unverified-bearer"


def throttle_key(address: str | None) -> str:
    """Whose allowance an address spends: itself, or for IPv6 its /64 (one host or site
    holds a whole /64 and can pick any address in it)."""
    if address is None:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class AuditMiddleware:
    """Pure ASGI, outermost of the app's middlewares: it sees the final status, including
    the 500 of an unhandled error, and the route template the router matched."""

    def __init__(self, app: ASGIApp, runtime: Any) -> None:
        self.app, self.runtime = app, runtime
        settings = AuditSettings()
        self.trusted = settings.networks
        self.anonymous = TokenBuckets(settings.anonymous_rate_per_s, settings.anonymous_burst)
        self.window_s = settings.audit_anonymous_window_s
        # Rows of requests answered together are inserted together (one statement per
        # group instead of one per request); each request still waits for its own row.
        self._rows: Batcher[tuple] = Batcher(self._insert, name=f"{runtime.name}:audit")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        audited = scope["method"] not in READS
        forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"x-forwarded-for"]
        address = client_address((scope.get("client") or (None,))[0], forwarded, self.trusted)
        request_id = headers.get("x-request-id", "")
        if not _SAFE_ID.match(request_id):
            request_id = secrets.token_hex(16)
        # What a use case's in-transaction row needs of this request (regia_shared.http.writes).
        scope.setdefault("state", {})[REQUEST_STATE] = (request_id, address)
        seen: dict[str, Any] = {
            "status": 500,
            "correlation_id": None,
            "throttled": False,
            "charged": False,
            "replaced": False,
        }

        async def sending(message: Message) -> None:
            if seen["replaced"]:
                return  # the app's own answer, replaced by the 429 already sent
            if message["type"] == "http.response.start":
                decision = self._charge(scope, headers, address, message["status"], seen)
                if decision is not None and not decision.allowed:
                    seen["replaced"] = True
                    await self._too_many(send, decision, request_id if audited else None, seen)
                    return
                seen["status"] = message["status"]
                for k, v in message.get("headers", []):
                    if k.lower() == b"x-correlation-id":
                        seen["correlation_id"] = v.decode("latin-1")
                if audited:
                    message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            if audited and bearer(headers) is None and scope["path"] not in _ANONYMOUS_WRITES:
                # No credential at all: every write route refuses it, so an address over its
                # allowance is answered now, before its body is read.
                seen["charged"] = True
                decision = self.anonymous.take(throttle_key(address))
                if not decision.allowed:
                    await self._too_many(send, decision, request_id, seen, close=True)
                    return
            await self.app(scope, receive, sending)
        finally:
            if audited:
                await self._record(scope, headers, seen, request_id, address)

    def _charge(
        self, scope: Scope, headers: dict[str, str], address: str | None, status: int, seen: dict[str, Any]
    ) -> Decision | None:
        """For a refused anonymous request not counted yet, take from its address's bucket."""
        if status < 400 or seen["charged"] or self._actor(scope, headers)[0] != "anonymous":
            return None
        seen["charged"] = True
        return self.anonymous.take(throttle_key(address))

    async def _too_many(
        self, send: Send, decision: Decision, request_id: str | None, seen: dict[str, Any], close: bool = False
    ) -> None:
        seen["status"], seen["throttled"] = 429, True
        body = json.dumps(
            error_body(
                "rate_limited",
                "too many requests without valid credentials from this address: "
                f"retry in {decision.retry_after_s} s, with a valid credential",
            )
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(decision.retry_after_s).encode()),
        ]
        if request_id is not None:
            headers.append((b"x-request-id", request_id.encode()))
        if close:  # the body was not read: the connection cannot carry another request
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _actor(self, scope: Scope, headers: dict[str, str]) -> tuple[str, str | None]:
        verified = (scope.get("state") or {}).get(ACTOR_STATE)
        if verified:
            return verified, None
        token = bearer(headers)
        if token is None:
            return "anonymous", None
        expected = self.runtime.settings.admin_token_sha256
        if expected is not None and secret_matches(token, expected.get_secret_value()):
            return "admin", None
        return "anonymous", claimed(token)

    async def _record(
        self, scope: Scope, headers: dict[str, str], seen: dict[str, Any], request_id: str, address: str | None
    ) -> None:
        state = scope.get("state") or {}
        write = state.get(WRITE_STATE)
        if write is not None and write.recorded and seen["status"] < 400:
            return  # its use case wrote its row, in the transaction that committed the change
        route = scope.get("route")
        # A request throttled before routing has no route: not "unmatched", it was never tried.
        template = (
            getattr(route, "path_format", None)
            or getattr(route, "path", None)
            or ("unrouted" if seen["throttled"] else "unmatched")
        )
        correlation_id = seen["correlation_id"] or headers.get("x-correlation-id")
        # A throttled request is one more count on its address's row for this window.
        tally = None
        if seen["throttled"]:
            window = int(time.time() // self.window_s) * self.window_s
            tally = f"{window}|{throttle_key(address)}"[:300]
        try:
            actor, claimed_actor = self._actor(scope, headers)
            await self._rows.submit(
                (
                    self.runtime.name,
                    scope["method"][:10],
                    template[:200],
                    scope["path"][:MAX_PATH],
                    seen["status"],
                    actor,
                    claimed_actor,
                    (address or "")[:100] or None,
                    request_id,
                    (correlation_id or "")[:200] or None,
                    (state.get(ACTOR_NAME_STATE) or "")[:200] or None,
                    _header_reason(headers.get("x-regia-reason")),
                    tally,
                )
            )
        except Exception as exc:  # the request is answered already; never fail it for this
            log.error(
                "audit record not written",
                method=scope["method"],
                route=template,
                status=seen["status"],
                request_id=request_id,
                error=type(exc).__name__,
            )

    async def _insert(self, rows: Sequence[tuple]) -> None:
        singles = [r[:-1] for r in rows if r[-1] is None]
        # Throttled requests of one address and window in this group: one row, their count.
        tallied: dict[str, tuple[tuple, int]] = {}
        for row in rows:
            if row[-1] is not None:
                first, count = tallied.get(row[-1], (row, 0))
                tallied[row[-1]] = (first, count + 1)
        async with self.runtime.pool.acquire() as conn:
            if singles:
                columns = list(zip(*singles, strict=True))
                await conn.execute(
                    "INSERT INTO audit_log (service, method, route, path, status, actor, claimed_actor,"
                    " client_address, request_id, correlation_id, actor_name, reason, channel)"
                    " SELECT *, 'http' FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[],"
                    " $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])",
                    *[list(c) for c in columns],
                )
            if tallied:
                columns = list(zip(*[(*first, count) for first, count in tallied.values()], strict=True))
                await conn.execute(
                    "INSERT INTO audit_log (service, method, route, path, status, actor, claimed_actor,"
                    " client_address, request_id, correlation_id, actor_name, reason, tally_key, repeats,"
                    " last_at, channel)"
                    " SELECT *, now(), 'http' FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
                    " $5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],"
                    " $12::text[], $13::text[], $14::int[])"
                    " ON CONFLICT (tally_key) WHERE tally_key IS NOT NULL DO UPDATE"
                    " SET repeats = audit_log.repeats + EXCLUDED.repeats, last_at = EXCLUDED.last_at",
                    *[list(c) for c in columns],
                )


class AuditEntry(BaseModel):
    """One write request a service answered (or a count of throttled ones, `repeats` > 1)."""

    id: int
    at: datetime
    service: str
    method: str
    route: str = Field(description="The route template the request matched; unmatched or unrouted if none")
    path: str
    status: int
    actor: str = Field(description="admin, key:<key_id>, contact:<contact_id> or anonymous")
    claimed_actor: str | None = Field(description="What a credential that did not verify claimed to be")
    client_address: str | None
    request_id: str
    correlation_id: str | None
    repeats: int = Field(description="Requests this row counts (throttled anonymous ones of one address)")
    last_at: datetime = Field(description="When the last request this row counts came")
    channel: str | None = Field(description="How the write came in: http, kafka, import or year-end")
    reason: str | None = Field(description="Why, as the caller said it (X-Regia-Reason, a command's reason)")
    actor_name: str | None = Field(description="The display name of the person whose account made the write")
    subject: str | None = Field(description="What the write changed, e.g. line:<id>, objective:<id>, rule:<id>")
    effect: dict[str, Any] | None = Field(
        description="What the write did (ledger entry and event ids, counts), on a row written in the "
        "write's own transaction; null on a request's row (a refused or failed one, or a write with no row of its own)"
    )


def audit_router(pool: Callable[[], asyncpg.Pool]) -> APIRouter:
    """`pool` gives the service's pool once it is started, as for the other routes every
    service shares (outbox replay, dead letters), which the runtime builds before its pool."""
    # Administrators and observers (auditors) read the trail.
    router = APIRouter(prefix="/v1", tags=["audit"], dependencies=[Depends(STAFF)])

    @router.get("/audit")
    async def read_audit(
        page: Paged,
        actor: Annotated[str | None, Query(max_length=200, description="admin, key:<key_id> or anonymous")] = None,
        channel: Annotated[
            str | None, Query(pattern="^(http|kafka|import|year-end)$", description="http, kafka, import or year-end")
        ] = None,
        since: Annotated[datetime | None, Query(description="Only requests at or after this time")] = None,
    ) -> Page[AuditEntry]:
        """Write requests this service answered, newest first (administrators only). A row
        with `repeats` > 1 counts throttled anonymous requests of one address, from `at` to
        `last_at`. Paged by id (the newest first), so rows written while a client walks the
        pages never shift them."""
        after = page.after("audit", {"actor": actor, "since": since, "channel": channel}, (bigint,))
        async with pool().acquire() as conn:
            rows = await conn.fetch(
                "SELECT id, at, service, method, route, path, status, actor, claimed_actor,"
                " client_address, request_id, correlation_id, repeats, coalesce(last_at, at) AS last_at,"
                " channel, reason, actor_name, subject, effect::text AS effect"
                " FROM audit_log"
                " WHERE ($1::text IS NULL OR actor = $1) AND ($2::timestamptz IS NULL OR at >= $2)"
                " AND ($3::bigint IS NULL OR id < $3) AND ($5::text IS NULL OR channel = $5)"
                " ORDER BY id DESC LIMIT $4",
                actor,
                since,
                after[0] if after else None,
                page.limit + 1,
                channel,
            )
        entries = [
            AuditEntry(**{**dict(r), "effect": json.loads(r["effect"]) if r["effect"] is not None else None})
            for r in rows
        ]
        return page.of(entries, key=lambda e: (e.id,))

    return router


def install_audit(app: FastAPI, runtime: Any) -> None:
    """Audit every write request of `app` and serve `GET /v1/audit`."""
    app.add_middleware(AuditMiddleware, runtime=runtime)
    app.include_router(audit_router(lambda: runtime.pool))
