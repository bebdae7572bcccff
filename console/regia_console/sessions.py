"""Logged-in people, in this process's memory only: a restart logs everyone out, which is
the safe failure. The browser holds a random session id (an httponly, SameSite=Strict
cookie); the person's access and refresh tokens stay here, so they are never in a page, a
cookie or a log line.

The access token (an EdDSA JWT of the partners service, regia_shared.http.identity) lives
minutes; `fresh()` swaps it, with the refresh token, before it expires. One refresh per
session at a time (a lock): two pages loading at once must not both spend the same refresh
token, which partners would read as a stolen one and end the session.

Two short-lived things wait here too, each under its own random id: a login whose password
was right but whose TOTP code is still to come (the login and password are kept here for
five minutes, never put back in the page), and an OpenID Connect login under way (its
state, nonce and PKCE verifier)."""

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from regia_shared.http.identity import Role

COOKIE = "regia_console_session"
PENDING_COOKIE = "regia_console_login"  # a login waiting for its TOTP code
OIDC_COOKIE = "regia_console_oidc"  # an OpenID Connect login under way
PENDING_S = 300.0
# Refresh when less than this is left of the access token: a page that asks four services
# concurrently must not have the token expire half-way.
REFRESH_MARGIN_S = 60.0


@dataclass(frozen=True)
class Account:
    """Who is logged in, as partners answered the login (and each refresh)."""

    account_id: str
    name: str
    role: Role
    session_id: str
    institution_id: str | None = None
    partner_id: str | None = None
    contact_id: str | None = None

    @classmethod
    def of(cls, answer: dict[str, Any]) -> "Account":
        a = answer["account"]
        return cls(
            account_id=str(a["account_id"]),
            name=str(a["name"]),
            role=Role(a["role"]),
            session_id=str(a["session_id"]),
            institution_id=a.get("institution_id"),
            partner_id=a.get("partner_id"),
            contact_id=a.get("contact_id"),
        )


@dataclass
class Session:
    account: Account
    token: str = field(repr=False)  # the access token; repr=False: a traceback never shows it
    refresh_token: str = field(repr=False)
    token_expires_at: float = 0.0  # monotonic
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    expires_at: float = 0.0  # monotonic: the console forgets the session then, whatever partners says
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def role(self) -> Role:
        return self.account.role

    def take(self, answer: dict[str, Any]) -> None:
        """A login's or a refresh's answer: the new pair of tokens and who they name."""
        self.account = Account.of(answer)
        self.token = str(answer["access_token"])
        self.refresh_token = str(answer["refresh_token"])
        self.token_expires_at = time.monotonic() + float(answer["expires_in"])

    def needs_refresh(self) -> bool:
        return self.token_expires_at - time.monotonic() < REFRESH_MARGIN_S

    def token_expired(self) -> bool:
        return self.token_expires_at <= time.monotonic()


@dataclass
class PendingLogin:
    """A password that was right, waiting for the account's TOTP code."""

    login: str
    password: str = field(repr=False)
    next: str = "/"
    expires_at: float = field(default_factory=lambda: time.monotonic() + PENDING_S)


@dataclass
class PendingOidc:
    """An authorisation-code flow under way: what must come back, and what proves it."""

    state: str
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    next: str = "/"
    expires_at: float = field(default_factory=lambda: time.monotonic() + PENDING_S)


class Sessions:
    def __init__(self, lifetime_s: float) -> None:
        self._lifetime = lifetime_s
        self._by_id: dict[str, Session] = {}
        self._pending: dict[str, PendingLogin] = {}
        self._oidc: dict[str, PendingOidc] = {}

    def open(self, answer: dict[str, Any]) -> str:
        """A new session for partners' answer to a login; its id, for the cookie."""
        self._forget_expired()
        session_id = secrets.token_urlsafe(32)
        session = Session(Account.of(answer), "", "", expires_at=time.monotonic() + self._lifetime)
        session.take(answer)
        self._by_id[session_id] = session
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        session = self._by_id.get(session_id or "")
        if session is None or session.expires_at < time.monotonic():
            return None
        return session

    def log_out(self, session_id: str | None) -> Session | None:
        return self._by_id.pop(session_id or "", None)

    def end_account(self, account_id: str) -> None:
        """Every session of one account ("log out everywhere" ends them in partners too)."""
        for sid in [sid for sid, s in self._by_id.items() if s.account.account_id == account_id]:
            del self._by_id[sid]

    def wait_for_code(self, login: str, password: str, next_path: str) -> str:
        self._forget_expired()
        pending_id = secrets.token_urlsafe(32)
        self._pending[pending_id] = PendingLogin(login, password, next_path)
        return pending_id

    def pending(self, pending_id: str | None) -> PendingLogin | None:
        found = self._pending.get(pending_id or "")
        return found if found is not None and found.expires_at >= time.monotonic() else None

    def drop_pending(self, pending_id: str | None) -> None:
        self._pending.pop(pending_id or "", None)

    def begin_oidc(self, pending: PendingOidc) -> str:
        self._forget_expired()
        flow_id = secrets.token_urlsafe(32)
        self._oidc[flow_id] = pending
        return flow_id

    def take_oidc(self, flow_id: str | None) -> PendingOidc | None:
        """The flow, once: a callback replayed finds nothing."""
        found = self._oidc.pop(flow_id or "", None)
        return found if found is not None and found.expires_at >= time.monotonic() else None

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for store in (self._by_id, self._pending, self._oidc):
            for key in [k for k, v in store.items() if v.expires_at < now]:
                del store[key]


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and secrets.compare_digest(session.csrf, sent or "")
