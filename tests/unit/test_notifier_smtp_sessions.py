"""The notifier's kept-open SMTP sessions against a real SMTP server over TCP: one session
carries many messages, and a session the server dropped while it sat idle is replaced
within the same send instead of failing the delivery."""

import asyncio
from pathlib import Path

from regia.bench.mail_sink import MailSink
from regia.local.embedded.process import free_port
from regia_notifier.adapters.smtp import SmtpMailer
from regia_notifier.config import NotifierSettings

MESSAGE = b"From: regia@example.org\r\nTo: piano@example.org\r\nSubject: x\r\n\r\nbody\r\n"


def test_a_session_dropped_while_idle_is_replaced_within_the_send(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    port = free_port()

    async def scenario() -> tuple[int, int]:
        mailer = SmtpMailer(NotifierSettings(REGIA_SMTP_PORT=port, REGIA_SMTP_HOST="127.0.0.1"))
        first = MailSink(port, tmp_path).start()
        try:
            for _ in range(2):  # one kept-open session carries both
                await mailer.send("piano@example.org", MESSAGE)
            carried = first.count
        finally:
            first.stop()  # the server goes away: the kept-open session is now dead
        again = MailSink(port, tmp_path).start()
        try:
            await mailer.send("piano@example.org", MESSAGE)
            await mailer.close()
            return carried, again.count
        finally:
            again.stop()

    assert asyncio.run(scenario()) == (2, 1)
