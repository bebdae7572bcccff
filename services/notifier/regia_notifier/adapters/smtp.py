"""Sending a delivery as an e-mail over SMTP (aiosmtplib), on connections kept open.

A fresh connection per message (connect, EHLO, MAIL, RCPT, DATA, QUIT) cost the notifier
about as much CPU as everything else it does with an alert, and under a burst the handshakes
queued behind one another. So up to `concurrency` sessions stay open and each carries one
message at a time. A session is never trusted after a failure (it is closed, whatever its
state), is closed after `smtp_idle_s` unused (servers drop idle clients, RFC 5321 allows
them five minutes), and a reused one that the server has dropped in the meantime is
replaced once within the same attempt instead of failing the delivery.
"""

import asyncio
import base64
import functools
import time
import unicodedata
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from datetime import UTC, datetime

import aiosmtplib

from ..config import NotifierSettings
from ..domain.delivery import ClaimedDelivery

# What a failed send can raise: an SMTP reply, a refused or dropped connection, a timeout.
SEND_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)
# A kept-open session the server closed while it sat idle: worth one fresh connection.
_DROPPED = (aiosmtplib.SMTPServerDisconnected, ConnectionError)

def one_line(text: str) -> str:
    """Text for a header: a name or title that reached us with line breaks or other control
    characters (an event is a way in too) keeps its words on one line, so it can neither
    forge a header nor make the message impossible to build."""
    return " ".join("".join(" " if unicodedata.category(c) in _BREAKING else c for c in text).split())


_BREAKING = {"Cc", "Zl", "Zp"}  # control characters, line and paragraph separators


def compose(delivery: ClaimedDelivery, sender: str) -> bytes:
    """The e-mail of a delivery, as the bytes sent after DATA.

    Written out here rather than built with the email package: its EmailMessage API parses
    every header through a header registry and its generator walks the message again to
    write it, which together cost more CPU than the rest of sending an alert (2.8 ms, then
    still 0.8 ms with the compat32 classes). The shape is fixed and small: headers (non-ASCII
    ones RFC 2047-encoded by the email package's own Header), then either one UTF-8 text
    part or multipart/alternative with plain text first (a client shows the last part it
    can render, and one that cannot render HTML still has the whole message), each part in
    base64, whose lines are short and can never start with a dot or look like a boundary.
    `tests/unit/test_notifier_messages.py` reads the result back with the email package."""
    head = [
        ("From", _sender(sender)),
        ("To", formataddr((one_line(delivery.recipient_name), delivery.recipient), charset="utf-8")),
        ("Subject", Header(one_line(delivery.subject), "us-ascii" if delivery.subject.isascii() else "utf-8",
                           header_name="Subject").encode(linesep=_CRLF)),
        ("Date", format_datetime(datetime.now(UTC))),
        # Stable across attempts: a copy re-sent after a lost acknowledgement is recognisable.
        ("Message-ID", f"<{delivery.delivery_id}@{_domain(sender)}>"),
        ("X-Regia-Event-Id", str(delivery.cause_event_id)),
        ("X-Regia-Delivery-Id", str(delivery.delivery_id)),
        # RFC 3834: tells vacation responders not to answer an automatic message.
        ("Auto-Submitted", "auto-generated"),
        ("Content-Language", one_line(delivery.language)),
        ("MIME-Version", "1.0"),
    ]
    lines = [f"{name}: {value}" for name, value in head]
    if delivery.body_html is None:
        lines += [*_part_headers("plain"), "", _base64(delivery.body)]
    else:
        boundary = f"=_regia.{delivery.delivery_id.hex}"  # "." and "_" are not base64
        lines += [f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
        for subtype, text in (("plain", delivery.body), ("html", delivery.body_html)):
            lines += [f"--{boundary}", *_part_headers(subtype), "", _base64(text)]
        lines += [f"--{boundary}--", ""]
    # UTF-8 only for an internationalised address (sent with SMTPUTF8); all else is ASCII.
    return _CRLF.join(lines).encode("utf-8")


_CRLF = "\r\n"


def _part_headers(subtype: str) -> list[str]:
    return [f'Content-Type: text/{subtype}; charset="utf-8"', "Content-Transfer-Encoding: base64"]


def _base64(text: str) -> str:
    return base64.encodebytes(text.encode("utf-8")).decode("ascii").rstrip("\n").replace("\n", _CRLF)


@functools.cache
def _sender(sender: str) -> str:
    return formataddr(parseaddr(sender), charset="utf-8")


@functools.cache
def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "regia.invalid"


class SmtpMailer:
    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # with when it was last used
        self._slots = asyncio.Semaphore(settings.concurrency)

    @property
    def sender(self) -> str:
        return self._settings.smtp_from

    @property
    def _from(self) -> str:
        """The envelope sender (MAIL FROM): the address of REGIA_SMTP_FROM."""
        return parseaddr(self._settings.smtp_from)[1]

    async def send(self, recipient: str, message: bytes) -> None:
        async with self._slots:
            session, reused = await self._session()
            try:
                await session.sendmail(self._from, [recipient], message, mail_options=_options(recipient))
            except _DROPPED:
                session.close()
                if not reused:
                    raise
                # Dropped while it sat idle: once more on a new session. (Had the server
                # taken the message before dropping, this is a copy with the same
                # Message-ID, as after any lost acknowledgement: SMTP is at-least-once.)
                session, _ = await self._connect(), False
                try:
                    await session.sendmail(self._from, [recipient], message, mail_options=_options(recipient))
                except BaseException:
                    session.close()
                    raise
            except BaseException:
                session.close()  # an error leaves the session in an unknown state
                raise
            self._idle.append((session, time.monotonic()))

    async def _session(self) -> tuple[aiosmtplib.SMTP, bool]:
        """A kept-open session that is still fresh, else a new one; and whether reused."""
        while self._idle:
            session, used_at = self._idle.pop()
            if session.is_connected and time.monotonic() - used_at < self._settings.smtp_idle_s:
                return session, True
            await _quit(session)
        return await self._connect(), False

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self._settings
        session = aiosmtplib.SMTP(
            hostname=s.smtp_host, port=s.smtp_port, username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls, timeout=s.smtp_timeout_s)
        await session.connect()
        return session

    async def close(self) -> None:
        """Say goodbye on every kept-open session (at shutdown)."""
        idle, self._idle = self._idle, []
        for session, _ in idle:
            await _quit(session)


def _options(recipient: str) -> list[str]:
    return [] if recipient.isascii() else ["SMTPUTF8"]


async def _quit(session: aiosmtplib.SMTP) -> None:
    try:
        await asyncio.wait_for(session.quit(), 2.0)
    except (*SEND_ERRORS, asyncio.TimeoutError):
        session.close()


def describe(error: BaseException) -> str:
    """An error as recorded on the attempt: the SMTP reply when there is one."""
    code = getattr(error, "code", None)
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return (f"{code} {text}" if code else f"{type(error).__name__}: {text}")[:1000]
