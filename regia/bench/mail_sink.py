"""The benchmark's SMTP server: a process of its own that speaks SMTP, accepts every
message and counts it.

Why not aiosmtpd, which the tests use as their real SMTP server: it reads a message line by
line through asyncio streams, 1.8 ms of CPU a message, so on its own core it took 560
messages a second, and sharing two cores with everything else it became the slowest step of
the funding-to-alert chain it was there to observe (a real relay, Postfix say, is not).
This one is an asyncio protocol that finds the end of a message with one search of its
buffer. It speaks the part of RFC 5321 a client sending mail uses (EHLO/HELO, MAIL, RCPT,
DATA with dot-stuffing left in place, RSET, NOOP, QUIT) and answers anything else with
502. The count of accepted messages is an 8-byte integer in a memory-mapped file, which
the benchmark reads as it waits for alerts (`python -m regia.bench.mail_sink PORT FILE`).
"""

import asyncio
import mmap
import signal
import struct
import sys
from pathlib import Path

from regia.local.embedded.process import ManagedProcess, port_open

_COUNT = struct.Struct("<q")
_END_OF_DATA = b"\r\n.\r\n"
_REPLIES = {
    b"EHLO": b"250-regia-bench-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
    b"HELO": b"250 regia-bench-sink\r\n",
    b"MAIL": b"250 2.1.0 ok\r\n",
    b"RCPT": b"250 2.1.5 ok\r\n",
    b"RSET": b"250 2.0.0 ok\r\n",
    b"NOOP": b"250 2.0.0 ok\r\n",
    b"DATA": b"354 end with <CRLF>.<CRLF>\r\n",
}


def _mapped(path: Path) -> mmap.mmap:
    with path.open("r+b") as file:
        return mmap.mmap(file.fileno(), _COUNT.size)


class _Session(asyncio.Protocol):
    def __init__(self, counter: "_Counter") -> None:
        self._counter, self._buffer, self._in_data = counter, b"", False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)  # a TCP server's transport: it writes
        self._transport = transport
        self._transport.write(b"220 regia-bench-sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        replies = []
        while True:
            if self._in_data:
                # The end of the message is CRLF.CRLF; the DATA command's own CRLF counts
                # as the first CRLF of an empty message.
                end = (b"\r\n" + self._buffer).find(_END_OF_DATA)
                if end < 0:
                    break
                self._buffer, self._in_data = self._buffer[end + 3 :], False
                self._counter.add()
                replies.append(b"250 2.0.0 accepted\r\n")
                continue
            line, found, rest = self._buffer.partition(b"\r\n")
            if not found:
                break
            self._buffer = rest
            verb = line[:4].upper()
            if verb == b"QUIT":
                replies.append(b"221 2.0.0 bye\r\n")
                self._transport.write(b"".join(replies))
                self._transport.close()
                return
            replies.append(_REPLIES.get(verb, b"502 5.5.2 command not recognised\r\n"))
            self._in_data = verb == b"DATA"
        if replies:
            self._transport.write(b"".join(replies))


class _Counter:
    def __init__(self, path: Path) -> None:
        self._count, self._n = _mapped(path), 0

    def add(self) -> None:
        self._n += 1  # one writer: this process's only loop
        _COUNT.pack_into(self._count, 0, self._n)


async def serve(port: int, count_file: Path) -> None:
    counter = _Counter(count_file)
    server = await asyncio.get_running_loop().create_server(lambda: _Session(counter), "127.0.0.1", port)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


class MailSink:
    def __init__(self, port: int, root: Path) -> None:
        self.port = port
        self._file = root / "smtp-sink.count"
        self._file.write_bytes(_COUNT.pack(0))
        self._count = _mapped(self._file)
        self.process = ManagedProcess(
            "smtp-sink",
            [sys.executable, "-m", "regia.bench.mail_sink", str(port), str(self._file)],
            root / "logs" / "smtp-sink.log",
            ready=lambda: port_open(port),
        )

    @property
    def count(self) -> int:
        return _COUNT.unpack_from(self._count, 0)[0]

    def start(self) -> "MailSink":
        self.process.start(timeout=30)
        return self

    def stop(self) -> None:
        self.process.stop()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), Path(sys.argv[2])))
