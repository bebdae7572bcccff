"""A real SMTP server for tests (aiosmtpd on a free loopback port) that keeps every
message it accepts, and can refuse with a temporary error to exercise retries."""

import email
import email.policy
import threading
from email.message import EmailMessage
from types import TracebackType

from aiosmtpd.controller import Controller

from regia.embedded.process import free_port

TRY_LATER = "451 4.3.0 try later"


class SmtpCapture:
    """`refuse_first`: answer `reply` to that many messages before accepting any;
    `refuse_always`: never accept. Refusals happen at the end of DATA, as a server that
    is short of disk or greylisting would answer."""

    def __init__(self, *, refuse_first: int = 0, refuse_always: bool = False,
                 reply: str = TRY_LATER) -> None:
        self.port = free_port()
        self.refuse_first = refuse_first
        self.refuse_always = refuse_always
        self.reply = reply
        self.refused = 0
        self._messages: list[EmailMessage] = []
        self._envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    # aiosmtpd handler hook, called on the server's own thread and loop.
    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        with self._lock:
            if self.refuse_always or self.refused < self.refuse_first:
                self.refused += 1
                return self.reply
            message = email.message_from_bytes(envelope.original_content or envelope.content,
                                               policy=email.policy.default)
            self._messages.append(message)  # type: ignore[arg-type]
            self._envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
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
