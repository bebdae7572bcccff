"""The benchmark's SMTP server: aiosmtpd in a process of its own, accepting and counting.

A real mail server is a process apart from the clients that load Regia, and this one has
to be: aiosmtpd reads a message line by line, a few milliseconds of CPU each, and run on a
thread of the benchmark it shared one interpreter lock with the HTTP load generator, so
each made the other late and the benchmark measured its own contention. The count of
accepted messages is an 8-byte integer in a memory-mapped file, which the benchmark reads
as it waits for alerts (`python -m regia.bench.mail_sink PORT COUNT_FILE` runs it alone).
"""

import mmap
import signal
import struct
import sys
import time
from pathlib import Path

from regia.embedded.process import ManagedProcess, port_open

_COUNT = struct.Struct("<q")


def _mapped(path: Path) -> mmap.mmap:
    with path.open("r+b") as file:
        return mmap.mmap(file.fileno(), _COUNT.size)


class _Counting:
    def __init__(self, count: mmap.mmap) -> None:
        self._count, self._n = count, 0

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self._n += 1  # one writer: the server's own loop
        _COUNT.pack_into(self._count, 0, self._n)
        return "250 2.0.0 accepted"


def serve(port: int, count_file: Path) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_Counting(_mapped(count_file)), hostname="127.0.0.1", port=port)
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop(no_assert=True)


class MailSink:
    def __init__(self, port: int, root: Path) -> None:
        self.port = port
        self._file = root / "smtp-sink.count"
        self._file.write_bytes(_COUNT.pack(0))
        self._count = _mapped(self._file)
        self.process = ManagedProcess("smtp-sink", [sys.executable, "-m", "regia.bench.mail_sink", str(port),
                                                    str(self._file)], root / "logs" / "smtp-sink.log",
                                      ready=lambda: port_open(port))

    @property
    def count(self) -> int:
        return _COUNT.unpack_from(self._count, 0)[0]

    def start(self) -> "MailSink":
        self.process.start(timeout=30)
        return self

    def stop(self) -> None:
        self.process.stop()


if __name__ == "__main__":
    serve(int(sys.argv[1]), Path(sys.argv[2]))
