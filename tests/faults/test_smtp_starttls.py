"""SMTP credentials never travel in clear by default: with REGIA_SMTP_USERNAME set and
REGIA_SMTP_STARTTLS unset, the notifier's mailer upgrades to TLS before AUTH (checked by a
real aiosmtpd server that would take the password in clear, and notes whether it did); a
server that does not offer STARTTLS gets neither the message nor the password, and the
attempt says why; plaintext AUTH needs an explicit acknowledgment at start-up."""

import asyncio
from pathlib import Path

import aiosmtplib
import pytest
from pydantic import ValidationError

from regia_notifier.adapters.smtp import SmtpMailer, describe
from regia_notifier.config import NotifierSettings

from ..support.figures import record
from ..support.smtp import SmtpCapture
from ..support.tls import self_signed

LOGIN = ("regia-relay", "s3cret-relay-password")
MESSAGE = b"From: regia@example.org\r\nTo: piano@example.org\r\nSubject: x\r\n\r\nbody\r\n"


def settings(smtp: SmtpCapture, **extra: object) -> NotifierSettings:
    return NotifierSettings(
        REGIA_SMTP_HOST="127.0.0.1",
        REGIA_SMTP_PORT=smtp.port,
        REGIA_SMTP_USERNAME=LOGIN[0],
        REGIA_SMTP_PASSWORD=LOGIN[1],
        **extra,
    )


async def send_twice(mailer: SmtpMailer) -> None:
    try:
        for _ in range(2):
            await mailer.send("piano@example.org", MESSAGE)
    finally:
        await mailer.close()


def test_with_credentials_starttls_is_on_and_comes_before_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server_tls, ca_file = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the client verifies the certificate
    with SmtpCapture(tls=server_tls, login=LOGIN) as smtp:
        s = settings(smtp)
        assert s.smtp_starttls is None and s.starttls  # unset: on, because there is a password
        asyncio.run(send_twice(SmtpMailer(s)))
        assert len(smtp.messages) == 2
        assert smtp.auth_tls == [True]  # one kept-open session, logged in once, under TLS
    record("smtp: credentials only over STARTTLS by default", faults=1, euros_lost=0)


def test_a_server_without_starttls_gets_no_password_and_no_message(tmp_path: Path) -> None:
    with SmtpCapture(login=LOGIN) as smtp:  # offers AUTH in clear, never STARTTLS
        mailer = SmtpMailer(settings(smtp))
        with pytest.raises(aiosmtplib.SMTPException) as failed:
            asyncio.run(send_twice(mailer))
        assert smtp.auth_tls == [] and smtp.messages == []
        reason = describe(failed.value)
        assert f"127.0.0.1:{smtp.port} does not offer STARTTLS" in reason, reason
        assert LOGIN[1] not in reason
    record("smtp: no STARTTLS offered, no password sent", faults=1, euros_lost=0)


def test_starttls_off_with_credentials_needs_an_acknowledgment(tmp_path: Path) -> None:
    with SmtpCapture(login=LOGIN) as smtp:
        with pytest.raises(ValidationError) as refused:
            settings(smtp, REGIA_SMTP_STARTTLS=False)
        text = str(refused.value)
        assert "REGIA_SMTP_PLAINTEXT_AUTH=true" in text and "in clear" in text
        assert LOGIN[1] not in text  # the settings' input is not echoed
        # Acknowledged: allowed (a relay on a trusted network), and the password goes in clear.
        acknowledged = settings(smtp, REGIA_SMTP_STARTTLS=False, REGIA_SMTP_PLAINTEXT_AUTH=True)
        assert not acknowledged.starttls
        asyncio.run(send_twice(SmtpMailer(acknowledged)))
        assert smtp.auth_tls == [False] and len(smtp.messages) == 2
    # Without credentials nothing changes: no STARTTLS unless asked (local catchers have no TLS).
    assert not NotifierSettings().starttls and NotifierSettings(REGIA_SMTP_STARTTLS=True).starttls
    record("smtp: plaintext AUTH only when acknowledged", faults=1, euros_lost=0)
