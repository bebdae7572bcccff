"""An SMTP catcher for one machine: every mail the notifier sends is saved as a `.eml`
file and announced on one line, so a developer sees alerts without a mail server.

It runs in a thread of `regia up` (aiosmtpd's Controller), so it needs no process of its
own and stops with it. It accepts any sender and recipient and never relays anything.
"""

import itertools
import time
from collections.abc import Callable
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from .embedded.private import open_private, private_dir, private_file


class SaveToFolder:
    """aiosmtpd handler: write each message to `<folder>/<time>-<n>.eml`."""

    def __init__(self, folder: Path, announce: Callable[[str], None]) -> None:
        self.folder = folder
        self.announce = announce
        self._sequence = itertools.count(1)

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)  # decode_data is off: aiosmtpd hands over the bytes received
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{next(self._sequence):04d}.eml"
        path = self.folder / name
        with open_private(path, "wb") as out:  # contacts' addresses and alert text: the owner's only
            out.write(raw)
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
        subject = str(headers.get("subject", "(no subject)"))
        self.announce(f"mail  to {', '.join(envelope.rcpt_tos)}  “{subject}”  saved as {path}")
        return "250 Message accepted for delivery"


class MailCatcher:
    def __init__(self, folder: Path, port: int, announce: Callable[[str], None]) -> None:
        self.folder = folder
        self.port = port
        self.controller = Controller(SaveToFolder(folder, announce), hostname="127.0.0.1", port=port)

    def start(self) -> "MailCatcher":
        private_dir(self.folder)
        for earlier in self.folder.glob("*.eml"):  # caught by a run that left them readable
            private_file(earlier)
        self.controller.start()
        return self

    def alive(self) -> bool:
        """Whether its thread still serves (`regia up` restarts a catcher that stopped)."""
        thread = self.controller._thread  # aiosmtpd keeps no public handle on it
        return thread is not None and thread.is_alive()

    def stop(self) -> None:
        self.controller.stop(no_assert=True)  # also safe if start() never finished
