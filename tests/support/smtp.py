"""A real SMTP server for tests (aiosmtpd on a free loopback port) that keeps every
message it accepts, and can refuse with a temporary error to exercise retries.

It can also offer SMTPUTF8 (`smtputf8`), STARTTLS (`tls`, a server SSLContext: see
tests/support/tls.py) and AUTH (`login`, a (user, password) pair), and records, for every
AUTH a client tried, whether the session was under TLS by then (`auth_tls`). AUTH is
offered in clear too (auth_require_tls=False), so that a client sending its password
without TLS is seen doing it rather than stopped by the server."""

import email
import email.policy
import ssl
import threading
from email.message import EmailMessage
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from regia.embedded.process import free_port

TRY_LATER = "451 4.3.0 try later"


class SmtpCapture:
    """`refuse_first`: answer `reply` to that many messages before accepting any;
    `refuse_always`: never accept. Refusals happen at the end of DATA, as a server that
    is short of disk or greylisting would answer."""

    def __init__(self, *, refuse_first: int = 0, refuse_always: bool = False,
                 reply: str = TRY_LATER, smtputf8: bool = False, tls: ssl.SSLContext | None = None,
                 login: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.refuse_first = refuse_first
        self.refuse_always = refuse_always
        self.reply = reply
        self.refused = 0
        self.login = login
        self.auth_tls: list[bool] = []  # per AUTH tried: was the session under TLS
        self._messages: list[EmailMessage] = []
        self._envelopes: list[tuple[str, list[str]]] = []
        self._utf8: list[bool] = []
        self._lock = threading.Lock()
        extra: dict[str, object] = {"enable_SMTPUTF8": smtputf8}
        if tls is not None:
            extra |= {"tls_context": tls}
        if login is not None:
            extra |= {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **extra)

    def _authenticate(self, server, session, envelope, mechanism, data) -> AuthResult:  # type: ignore[no-untyped-def]
        with self._lock:
            self.auth_tls.append(session.ssl is not None)
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == self.login
        return AuthResult(success=ok)

    # aiosmtpd handler hook, called on the server's own thread and loop.
    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        with self._lock:
            if self.refuse_always or self.refused < self.refuse_first:
                self.refused += 1
                return self.reply
            content = envelope.original_content or envelope.content
            # Sent with SMTPUTF8, the headers are UTF-8 (RFC 6532): read as text, as a client
            # that supports it would; otherwise the message is ASCII.
            message = (email.message_from_string(content.decode("utf-8"), policy=email.policy.default)
                       if envelope.smtp_utf8 else
                       email.message_from_bytes(content, policy=email.policy.default))
            self._messages.append(message)  # type: ignore[arg-type]
            self._envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._utf8.append(envelope.smtp_utf8)
        return "250 2.0.0 accepted"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        """(MAIL FROM, RCPT TO list) of each accepted message."""
        with self._lock:
            return list(self._envelopes)

    @property
    def smtputf8(self) -> list[bool]:
        """Whether each accepted message came with MAIL FROM ... SMTPUTF8."""
        with self._lock:
            return list(self._utf8)

    def start(self) -> "SmtpCapture":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "SmtpCapture":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
