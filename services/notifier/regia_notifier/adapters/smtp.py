"""Sending a delivery as an e-mail over SMTP (aiosmtplib).

One connection per message: alerts are rare and bursty, and a fresh connection is one
less thing to get wrong (a server that drops idle sessions, a broken pipe after an error).
"""

import unicodedata
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from datetime import UTC, datetime

import aiosmtplib

from ..config import NotifierSettings
from ..domain.delivery import ClaimedDelivery

# What a failed send can raise: an SMTP reply, a refused or dropped connection, a timeout.
SEND_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)


def one_line(text: str) -> str:
    """Text for a header: a name or title that reached us with line breaks or other control
    characters (an event is a way in too) keeps its words on one line, so it can neither
    forge a header nor make the message impossible to build."""
    return " ".join("".join(" " if unicodedata.category(c) in _BREAKING else c for c in text).split())


_BREAKING = {"Cc", "Zl", "Zp"}  # control characters, line and paragraph separators


def compose(delivery: ClaimedDelivery, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((one_line(delivery.recipient_name), delivery.recipient))
    message["Subject"] = one_line(delivery.subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    # Stable across attempts: a copy re-sent after a lost acknowledgement is recognisable.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "regia.invalid"
    message["Message-ID"] = f"<{delivery.delivery_id}@{domain}>"
    message["X-Regia-Event-Id"] = str(delivery.cause_event_id)
    message["X-Regia-Delivery-Id"] = str(delivery.delivery_id)
    # RFC 3834: tells vacation responders not to answer an automatic message.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(delivery.body, charset="utf-8")
    if delivery.body_html is not None:
        # multipart/alternative, plain text first: a client shows the last part it can
        # render, and one that cannot render HTML still has the whole message.
        message.add_alternative(delivery.body_html, subtype="html", charset="utf-8")
    # After set_content and add_alternative, which move or drop every Content-* header
    # set before them: the language belongs to the message as a whole.
    message["Content-Language"] = delivery.language
    return message


class SmtpMailer:
    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings

    @property
    def sender(self) -> str:
        return self._settings.smtp_from

    async def send(self, message: EmailMessage) -> None:
        s = self._settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_s,
        )


def describe(error: BaseException) -> str:
    """An error as recorded on the attempt: the SMTP reply when there is one."""
    code = getattr(error, "code", None)
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return (f"{code} {text}" if code else f"{type(error).__name__}: {text}")[:1000]
