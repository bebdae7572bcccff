"""The benchmark's SMTP sink, a process of its own, against a real SMTP client: it accepts
and counts whole messages, whatever their lines hold, over one session or several."""

import asyncio
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from regia.bench.mail_sink import MailSink
from regia.local.embedded.process import free_port


def message(n: int) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "regia@example.org", "piano@example.org", f"alert {n}"
    # A line that is only a dot, and one that starts with one: the client dot-stuffs them,
    # and neither may end the message early.
    m.set_content(f"first line\n.\n.starts with a dot\n\nmessage {n}\n")
    return m


def test_counts_every_message_sent_over_kept_open_and_fresh_sessions(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    sink = MailSink(free_port(), tmp_path).start()
    try:

        async def scenario() -> None:
            session = aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port, start_tls=False)
            await session.connect()
            for n in range(3):
                errors, reply = await session.send_message(message(n))
                assert not errors and reply.startswith("2.0.0")
            await session.quit()
            await aiosmtplib.send(message(3), hostname="127.0.0.1", port=sink.port, start_tls=False)
            refused = aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port, start_tls=False)
            await refused.connect()
            assert (await refused.execute_command(b"VRFY", b"someone")).code == 502
            refused.close()

        asyncio.run(scenario())
        assert sink.count == 4
    finally:
        sink.stop()
