"""Logged-in administrators, in memory only: a restart logs everyone out, which is the
safe failure. The browser holds a random session id; the admin token stays here, so it is
never in a page, a cookie or a log line."""

import secrets
import time
from dataclasses import dataclass, field

from regia_shared.http.auth import secret_matches

COOKIE = "regia_console_session"


@dataclass
class Session:
    token: str = field(repr=False)  # repr=False: a session printed in a traceback hides it
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    expires_at: float = 0.0


class Sessions:
    def __init__(self, token_sha256: str | None, lifetime_s: float) -> None:
        self._expected = token_sha256
        self._lifetime = lifetime_s
        self._by_id: dict[str, Session] = {}

    def log_in(self, token: str) -> str | None:
        """A new session id when the token is the administrators' one, else None."""
        token = token.strip()
        if not token or not self._expected or not secret_matches(token, self._expected):
            return None
        self._forget_expired()
        session_id = secrets.token_urlsafe(32)
        self._by_id[session_id] = Session(token, expires_at=time.monotonic() + self._lifetime)
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        session = self._by_id.get(session_id or "")
        if session is None or session.expires_at < time.monotonic():
            return None
        return session

    def log_out(self, session_id: str | None) -> None:
        self._by_id.pop(session_id or "", None)

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for sid in [sid for sid, s in self._by_id.items() if s.expires_at < now]:
            del self._by_id[sid]


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and secrets.compare_digest(session.csrf, sent or "")
