"""Sending a delivery as an e-mail over SMTP (aiosmtplib), on connections kept open.

A fresh connection per message (connect, EHLO, MAIL, RCPT, DATA, QUIT) cost the notifier
about as much CPU as everything else it does with an alert, and under a burst the handshakes
queued behind one another. So up to `concurrency` sessions stay open and each carries one
message at a time. A session is never trusted after a failure (it is closed, whatever its
state), is closed after `smtp_idle_s` unused (servers drop idle clients, RFC 5321 allows
them five minutes), and a reused one that the server has dropped in the meantime is
replaced once within the same attempt instead of failing the delivery.

Credentials never travel in clear unless the operator said so: with REGIA_SMTP_USERNAME
set, STARTTLS is on unless REGIA_SMTP_STARTTLS=false *and* REGIA_SMTP_PLAINTEXT_AUTH=true
(config.py), the upgrade is done here before AUTH, and a server that does not offer
STARTTLS then gets no message and no password: the attempt fails saying so.

An address with a non-ASCII local part goes out only with SMTPUTF8 (domain.addresses);
to a server that does not offer it the delivery is Undeliverable, not retried.

A send is over by the deadline the dispatcher gives (its claim must outlast the send, see
service_layer.dispatching): REGIA_SMTP_TIMEOUT_S bounds each step, not the whole exchange, so a server
answering every step slowly kept a send open past the claim while the delivery was sent
again. Cut there, the attempt has failed and is retried with back-off. Cutting is safe:
a server takes responsibility for a message only with its 250 to the end of DATA (RFC 5321
§6.1), so a send cut before the server had all of it leaves nothing delivered (the server
discards a transaction whose client hung up). Cut while the server was answering the end
of DATA (or in the instant after its 250 arrived), the message may have been taken: the
retry is then a second copy with the same Message-ID, the re-send SMTP already makes after
any lost acknowledgement (at-least-once), and still never a second session while this one
is open. The session cut is closed like after any failure, never put back in the pool.
"""

import asyncio
import time
from email.utils import parseaddr

import aiosmtplib

from regia_shared.observability.logs import get_logger

from ..config import NotifierSettings
from ..domain.addresses import Mailbox, mailbox
from ..domain.errors import Undeliverable
from .mime import compose, one_line

__all__ = ["SEND_ERRORS", "SmtpMailer", "SmtpUtf8Unsupported", "compose", "describe", "one_line"]

log = get_logger(__name__)

# What a failed send can raise: an SMTP reply, a refused or dropped connection, a timeout.
SEND_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)
# A kept-open session the server closed while it sat idle: worth one fresh connection.
_DROPPED = (aiosmtplib.SMTPServerDisconnected, ConnectionError)


# Here, not in domain.errors: what the server offers is the adapter's to know; to the domain
# it is one more Undeliverable.
class SmtpUtf8Unsupported(Undeliverable):
    """The recipient's address needs SMTPUTF8 and the server does not offer it."""


class SmtpMailer:
    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # with when it was last used
        self._slots = asyncio.Semaphore(settings.concurrency)
        if settings.smtp_username is not None and not settings.starttls:
            # Allowed only with REGIA_SMTP_PLAINTEXT_AUTH=true; said loudly once at start-up.
            log.warning(
                "SMTP credentials will be sent without TLS (REGIA_SMTP_STARTTLS=false, "
                "REGIA_SMTP_PLAINTEXT_AUTH=true): anyone on the path to the server can read them",
                smtp_host=settings.smtp_host,
                smtp_port=settings.smtp_port,
            )

    @property
    def sender(self) -> str:
        return self._settings.smtp_from

    @property
    def _from(self) -> str:
        """The envelope sender (MAIL FROM): the address of REGIA_SMTP_FROM, its domain in
        IDNA A-labels (its local part is ASCII: the settings refuse another)."""
        return mailbox(parseaddr(self._settings.smtp_from)[1]).envelope

    async def send(self, recipient: str, message: bytes, *, deadline: float | None = None) -> None:
        """One message, over by `deadline` (event-loop time) if given: waiting for a session,
        connecting and the whole exchange count."""
        to = mailbox(recipient)  # an unusable address is Undeliverable before any connection
        if deadline is None:
            await self._send(recipient, to, message)
            return
        limit = max(0.0, deadline - asyncio.get_running_loop().time())
        timeout = asyncio.timeout_at(deadline)
        try:
            async with timeout:
                await self._send(recipient, to, message)
        except TimeoutError:
            if not timeout.expired():
                raise  # a step's own time limit (aiosmtplib), said as such
            raise aiosmtplib.SMTPTimeoutError(
                f"no complete SMTP exchange within the {limit:.3g} s time limit: cut so that the "
                "delivery's claim outlasts the send"
            ) from None

    async def _send(self, recipient: str, to: Mailbox, message: bytes) -> None:
        options = ["SMTPUTF8"] if to.smtputf8 else []
        async with self._slots:
            session, reused = await self._session()
            while True:
                # Only a session that sat idle is tried once more if it turns out dropped.
                dropped = _DROPPED if reused else ()
                try:
                    if to.smtputf8 and not session.supports_extension("smtputf8"):
                        s = self._settings
                        raise SmtpUtf8Unsupported(
                            f"{recipient} has a non-ASCII local part, which only a server offering "
                            f"SMTPUTF8 can take, and the SMTP server {s.smtp_host}:{s.smtp_port} does "
                            "not offer it"
                        )
                    await session.sendmail(self._from, [to.envelope], message, mail_options=options)
                except dropped:
                    # Dropped while it sat idle: once more on a new session. (Had the server
                    # taken the message before dropping, this is a copy with the same
                    # Message-ID, as after any lost acknowledgement: SMTP is at-least-once.)
                    session.close()
                    session, reused = await self._connect(), False
                    continue
                except SmtpUtf8Unsupported:
                    self._idle.append((session, time.monotonic()))  # nothing was sent on it
                    raise
                except BaseException:
                    # An error leaves the session in an unknown state; so does a cut at the
                    # deadline (a cancellation, a BaseException), mid-reply as it may be.
                    session.close()
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
        """A new session, greeted (EHLO, so its extensions are known before MAIL), upgraded
        to TLS when configured and logged in: each step done here, in that order, rather
        than left to aiosmtplib, whose default STARTTLS is opportunistic (a server that
        stops offering it would silently get the password in clear)."""
        s = self._settings
        session = aiosmtplib.SMTP(hostname=s.smtp_host, port=s.smtp_port, start_tls=False, timeout=s.smtp_timeout_s)
        await session.connect()
        try:
            await _greet(session)
            if s.starttls:
                if not session.supports_extension("starttls"):
                    raise aiosmtplib.SMTPException(
                        f"the SMTP server {s.smtp_host}:{s.smtp_port} does not offer STARTTLS, which "
                        "REGIA_SMTP_STARTTLS asks for (on by default with REGIA_SMTP_USERNAME): nothing "
                        "is sent in clear"
                    )
                await session.starttls()
                await _greet(session)  # RFC 3207: what the server offers is asked again over TLS
            if s.smtp_username is not None:
                await session.login(s.smtp_username, s.smtp_password.get_secret_value() if s.smtp_password else "")
        except BaseException:
            session.close()
            raise
        return session

    async def close(self) -> None:
        """Say goodbye on every kept-open session (at shutdown)."""
        idle, self._idle = self._idle, []
        for session, _ in idle:
            await _quit(session)


async def _greet(session: aiosmtplib.SMTP) -> None:
    try:
        await session.ehlo()
    except aiosmtplib.SMTPHeloError:
        await session.helo()  # an old server: no extensions, so no SMTPUTF8 nor STARTTLS


async def _quit(session: aiosmtplib.SMTP) -> None:
    try:
        await asyncio.wait_for(session.quit(), 2.0)
    except (TimeoutError, *SEND_ERRORS):
        session.close()
    except BaseException:
        session.close()  # cut mid-goodbye (a send's deadline): out of the pool already, closed too
        raise


def describe(error: BaseException) -> str:
    """An error as recorded on the attempt: the SMTP reply when there is one."""
    if isinstance(error, Undeliverable):  # its message is the reason, already complete
        return f"undeliverable, not retried: {error}"[:1000]
    code = getattr(error, "code", None)
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return (f"{code} {text}" if code else f"{type(error).__name__}: {text}")[:1000]
