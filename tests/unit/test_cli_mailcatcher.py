"""The SMTP catcher of `regia up`: a real SMTP conversation ends as a .eml file and one
line on the terminal."""

import smtplib
from email.message import EmailMessage
from pathlib import Path

from regia.local.embedded.process import free_port
from regia.local.mailcatcher import MailCatcher


def test_each_mail_is_saved_as_an_eml_file_and_announced(tmp_path: Path) -> None:
    announced: list[str] = []
    catcher = MailCatcher(tmp_path / "mail", free_port(), announced.append).start()
    try:
        message = EmailMessage()
        message["From"], message["To"] = "regia@example.org", "piano.strategico@comune.laspezia.example"
        message["Subject"] = "Il Miglio Blu è a rischio"
        message.set_content("Copertura 2027: 60%")
        with smtplib.SMTP("127.0.0.1", catcher.port) as smtp:
            smtp.send_message(message)
    finally:
        catcher.stop()
    saved = list((tmp_path / "mail").glob("*.eml"))
    assert len(saved) == 1
    assert b"Copertura 2027: 60%" in saved[0].read_bytes()
    assert len(announced) == 1
    assert "Il Miglio Blu è a rischio" in announced[0] and str(saved[0]) in announced[0]
