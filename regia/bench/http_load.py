"""The benchmark's load generator for HTTP: kept-alive HTTP/1.1 connections over asyncio
streams, lent out one request at a time.

Why not httpx, which every other HTTP call of Regia's uses: the load generator shares the
two cores with what it measures, and httpx (through httpcore and anyio) spent more CPU per
request than the funding service spent recording it. With 200 requests a second that made
the benchmark's own client the largest user of the machine after the notifier. This client
does only what the benchmark needs: POST a JSON body with a few headers to one server and
read a response framed by Content-Length (or chunked, which uvicorn uses for streamed
bodies), so every cycle it saves goes to the services under test.
"""

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class LoadError(Exception):
    """A request that got no complete answer: counted by the benchmark as a failure."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class _Connection:
    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reused = False  # the last request went on a connection an earlier one had used

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class LoadClients:
    """`count` connections to `base_url`, each carrying one request at a time."""

    def __init__(
        self, count: int, *, base_url: str, headers: dict[str, str] | None = None, timeout: float = 60.0
    ) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._common = "".join(
            f"{k}: {v}\r\n" for k, v in {"Host": f"{self._host}:{self._port}", **(headers or {})}.items()
        )
        self._timeout = timeout
        self.size = count
        self.lent = 0  # connections carrying a request now
        self.peak_lent = 0  # the most at once: how many an open-loop schedule needed
        self.waited = 0  # requests that found every connection lent and had to wait for one
        # Last in, first out: the connections most recently used carry the next requests, so
        # a pool larger than the load needs opens only as many as it uses (each opens lazily).
        self._idle: asyncio.LifoQueue[_Connection] = asyncio.LifoQueue()
        for _ in range(count):
            self._idle.put_nowait(_Connection())

    async def post(self, path: str, *, json: Any, headers: dict[str, str] | None = None) -> Answer:
        body = _dumps(json)
        head = (
            f"POST {path} HTTP/1.1\r\n{self._common}"
            + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
            + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        if self._idle.empty():
            self.waited += 1
        connection = await self._idle.get()
        self.lent += 1
        self.peak_lent = max(self.peak_lent, self.lent)
        try:
            try:
                return await asyncio.wait_for(self._exchange(connection, head + body), self._timeout)
            except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError) as exc:
                if not (connection.reused and _nothing_read(exc) and "idempotency-key" in head.lower().decode()):
                    raise
                # The server closed this kept-alive connection as the request went out (a
                # service closes one idle for REGIA_HTTP_KEEP_ALIVE_S, and this pool keeps its
                # connections for as long as it lives; the close and the request crossed): the
                # request never arrived whole, and its Idempotency-Key makes sending it again
                # safe even if it did. What a well-behaved client of Regia does, once.
                connection.close()
                return await asyncio.wait_for(self._exchange(connection, head + body), self._timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
            connection.close()  # whatever state it is in, it is not reused
            raise LoadError(f"POST {path}: {exc!r}") from exc
        finally:
            self.lent -= 1
            self._idle.put_nowait(connection)

    async def _exchange(self, c: _Connection, request: bytes) -> Answer:
        if c.writer is None or c.writer.is_closing() or c.reader is None or c.reader.at_eof():
            # never used, or closed by the server while idle (a service closes a kept-alive
            # connection after REGIA_HTTP_KEEP_ALIVE_S without a request): a new one
            c.close()
            c.reader, c.writer = await asyncio.open_connection(self._host, self._port)
            c.reused = False
        else:
            c.reused = True
        c.writer.write(request)
        head = (await c.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        if "content-length" in fields:
            content = await c.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            content = await _chunked(c.reader)
        else:
            raise ValueError("a response framed by neither Content-Length nor chunked encoding")
        if fields.get("connection", "").lower() == "close":
            c.close()
        return Answer(status, content)

    async def __aenter__(self) -> "LoadClients":
        return self

    async def __aexit__(self, *_: object) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().close()


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers are sent to this client
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _nothing_read(exc: BaseException) -> bool:
    """The failure came before any byte of an answer: a reset, or the end of the stream."""
    return not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
