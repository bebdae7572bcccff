"""A real SMTP server for tests (aiosmtpd on a free loopback port) that keeps every
message it accepts, and can refuse with a temporary error to exercise retries.

It can also offer SMTPUTF8 (`smtputf8`), STARTTLS (`tls`, a server SSLContext: see
tests/support/tls.py) and AUTH (`login`, a (user, password) pair), and records, for every
AUTH a client tried, whether the session was under TLS by then (`auth_tls`). AUTH is
offered in clear too (auth_require_tls=False), so that a client sending its password
without TLS is seen doing it rather than stopped by the server.

A slow server: `step_delay_s` (adjustable while it runs) holds the answer to MAIL, to each
RCPT and the final one after DATA that long, each step well within a client's per-step
time limit. Every mail transaction is kept on record (from MAIL to its end: the answer
after DATA, RSET, or the client hanging up mid-way, `dropped`), so a test can tell whether
two were ever open at once for the same recipient (`most_open_per_recipient`) and whether
a connection is still held with one half done (`transactions_open`)."""

import asyncio
import email
import email.policy
import itertools
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from regia.local.embedded.process import free_port

TRY_LATER = "451 4.3.0 try later"


@dataclass
class _Transaction:
    """One mail transaction as the server saw it; `start` and `end` are positions in the
    server's sequence of events (an order, not a time)."""

    start: int
    recipients: list[str] = field(default_factory=list)
    end: int | None = None


class SmtpCapture:
    """`refuse_first`: answer `reply` to that many messages before accepting any;
    `refuse_always`: never accept. Refusals happen at the end of DATA, as a server that
    is short of disk or greylisting would answer."""

    def __init__(
        self,
        *,
        refuse_first: int = 0,
        refuse_always: bool = False,
        reply: str = TRY_LATER,
        smtputf8: bool = False,
        tls: ssl.SSLContext | None = None,
        login: tuple[str, str] | None = None,
        step_delay_s: float = 0.0,
    ) -> None:
        self.port = free_port()
        self.step_delay_s = step_delay_s
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
        self._events = itertools.count()
        self._transactions: list[_Transaction] = []
        self._open: dict[object, _Transaction] = {}  # per connection (aiosmtpd Session)
        self.dropped = 0  # transactions a client hung up on before the answer after DATA
        extra: dict[str, object] = {"enable_SMTPUTF8": smtputf8}
        if tls is not None:
            extra |= {"tls_context": tls}
        if login is not None:
            extra |= {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = _Controller(self, hostname="127.0.0.1", port=self.port, **extra)

    def _authenticate(self, server, session, envelope, mechanism, data) -> AuthResult:  # type: ignore[no-untyped-def]
        with self._lock:
            self.auth_tls.append(session.ssl is not None)
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == self.login
        return AuthResult(success=ok)

    # aiosmtpd handler hooks, called on the server's own thread and loop: a sleep here
    # holds up only that connection's answer.
    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:  # type: ignore[no-untyped-def]
        with self._lock:
            self._open[session] = transaction = _Transaction(next(self._events))
            self._transactions.append(transaction)
        await self._slow_step()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # type: ignore[no-untyped-def]
        with self._lock:
            if (transaction := self._open.get(session)) is not None:
                transaction.recipients.append(address)
        await self._slow_step()
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_RSET(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self._ended(session)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        # A client that hangs up during this wait cancels it: the transaction ends as
        # dropped (_hung_up), never as answered.
        await self._slow_step()
        try:
            return self._take(envelope)
        finally:
            self._ended(session)

    async def _slow_step(self) -> None:
        if self.step_delay_s > 0:
            await asyncio.sleep(self.step_delay_s)

    def _ended(self, session: object) -> None:
        with self._lock:
            if (transaction := self._open.pop(session, None)) is not None:
                transaction.end = next(self._events)

    def _hung_up(self, session: object) -> None:
        with self._lock:
            if (transaction := self._open.pop(session, None)) is not None:
                transaction.end = next(self._events)
                self.dropped += 1

    def _take(self, envelope) -> str:  # type: ignore[no-untyped-def]
        with self._lock:
            if self.refuse_always or self.refused < self.refuse_first:
                self.refused += 1
                return self.reply
            content = envelope.original_content or envelope.content
            # Sent with SMTPUTF8, the headers are UTF-8 (RFC 6532): read as text, as a client
            # that supports it would; otherwise the message is ASCII.
            message = (
                email.message_from_string(content.decode("utf-8"), policy=email.policy.default)
                if envelope.smtp_utf8
                else email.message_from_bytes(content, policy=email.policy.default)
            )
            self._messages.append(message)  # type: ignore[arg-type]
            self._envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._utf8.append(envelope.smtp_utf8)
        return "250 2.0.0 accepted"

    @property
    def transactions_open(self) -> int:
        """Transactions begun and not over, on connections still open."""
        with self._lock:
            return len(self._open)

    @property
    def most_open_per_recipient(self) -> dict[str, int]:
        """For each recipient, the most transactions naming it that were open at once."""
        with self._lock:
            transactions = [(t.start, t.end, list(t.recipients)) for t in self._transactions]
        most: dict[str, int] = {}
        # The most intervals open at once is reached at one of their starts.
        for start, _, recipients in transactions:
            for r in recipients:
                at_once = sum(1 for s, e, rs in transactions if r in rs and s <= start and (e is None or start < e))
                most[r] = max(most.get(r, 0), at_once)
        return most

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

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _Server(SMTP):
    """aiosmtpd's server, telling the capture when a client hangs up (no handler hook does)."""

    def connection_lost(self, error: Exception | None) -> None:
        if self.session is not None:
            self.event_handler._hung_up(self.session)
        super().connection_lost(error)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Server(self.handler, **self.SMTP_kwargs)
