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
import time
from email.utils import parseaddr

import aiosmtplib

from ..config import NotifierSettings
from .mime import compose, one_line

__all__ = ["SEND_ERRORS", "SmtpMailer", "compose", "describe", "one_line"]

# What a failed send can raise: an SMTP reply, a refused or dropped connection, a timeout.
SEND_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)
# A kept-open session the server closed while it sat idle: worth one fresh connection.
_DROPPED = (aiosmtplib.SMTPServerDisconnected, ConnectionError)


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
            while True:
                try:
                    await session.sendmail(self._from, [recipient], message, mail_options=_options(recipient))
                except _DROPPED if reused else ():
                    # Dropped while it sat idle: once more on a new session. (Had the server
                    # taken the message before dropping, this is a copy with the same
                    # Message-ID, as after any lost acknowledgement: SMTP is at-least-once.)
                    session.close()
                    session, reused = await self._connect(), False
                    continue
                except BaseException:
                    session.close()  # an error leaves the session in an unknown state
                    raise
                self._idle.append((session, time.monotonic()))
                return

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
