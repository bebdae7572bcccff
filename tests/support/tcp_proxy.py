"""A TCP proxy a test can cut: the network between a service and the broker, paused.

`TcpProxy(target_port)` listens on a free loopback port and forwards every connection to
the target. `pause()` stops forwarding: in "hold" mode (the default) the connections stay
open but no byte crosses, in either direction, and new connections are accepted but not
served, which is what a partitioned network looks like to both ends until their own
timeouts fire; in "drop" mode every connection is reset and new ones are refused until
`resume()`. `pause(clients=("regia-objectives",))` cuts only the connections whose Kafka
client id (read from the first request, which a Kafka client always sends first) starts
with one of those: one service loses the broker while the others keep using it. Runs in
its own thread with its own event loop, so the test's loop, blocked or not, never slows
the traffic down.
"""

import asyncio
import contextlib
import struct
import threading
from dataclasses import dataclass, field

from regia.local.embedded.process import free_port


@dataclass(eq=False)  # hashed by identity: the proxy keeps a set of open pipes
class _Pipe:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    upstream_reader: asyncio.StreamReader
    upstream_writer: asyncio.StreamWriter
    client_id: str
    flowing: asyncio.Event  # client -> server
    flowing_back: asyncio.Event  # server -> client
    tasks: list[asyncio.Task] = field(default_factory=list)

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for w in (self.writer, self.upstream_writer):
            with contextlib.suppress(Exception):
                w.transport.abort()  # a reset, not a polite FIN


def kafka_client_id(first: bytes) -> str:
    """The client id of a Kafka request: size, api key, version, correlation id, then the
    id as a length-prefixed string (length -1: none). Anything else reads as ''."""
    try:
        (length,) = struct.unpack_from(">h", first, 12)
        return first[14 : 14 + length].decode(errors="replace") if length > 0 else ""
    except struct.error:
        return ""


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1", port: int | None = None) -> None:
        self.target_host, self.target_port = target_host, target_port
        self.port = port or free_port()
        self.connections_total = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._paused: tuple[str, ...] | None = None  # None: flowing; (): everyone; else these clients
        self._dropping = False
        self._one_way = False
        self._existing_only = False
        self._pipes: set[_Pipe] = set()
        self._server: asyncio.AbstractServer | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def paused(self) -> bool:
        return self._paused is not None

    def clients(self) -> set[str]:
        """The client ids of the connections open now."""
        return {p.client_id for p in list(self._pipes)}

    # --- control, from any thread -----------------------------------------------------
    def start(self) -> "TcpProxy":
        self._thread.start()
        self._call(self._start())
        return self

    def pause(
        self, mode: str = "hold", clients: tuple[str, ...] = (), one_way: bool = False, existing_only: bool = False
    ) -> None:
        """Stop forwarding for every connection, or only for those of `clients` (prefixes
        of Kafka client ids). `one_way` (hold only) stops the client's requests but still
        delivers the answers already on their way: a client that has just fetched records
        applies them and then cannot commit. `existing_only` (hold only) cuts the
        connections open now and lets new ones through: a process started during the pause
        (a replica taking over) reaches the broker while the cut one stays cut."""
        if mode not in ("hold", "drop"):
            raise ValueError("mode is 'hold' or 'drop'")
        self._one_way = one_way and mode == "hold"
        self._existing_only = existing_only and mode == "hold"
        self._call(self._pause(mode, tuple(clients)))

    def resume(self) -> None:
        self._call(self._resume())

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _call(self, coro) -> None:  # type: ignore[no-untyped-def]
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    # --- inside the proxy's loop --------------------------------------------------------
    def _cut(self, client_id: str) -> bool:
        if self._paused is None or (self._existing_only and not client_id):
            return False
        return not self._paused or client_id.startswith(self._paused)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _pause(self, mode: str, clients: tuple[str, ...]) -> None:
        self._paused, self._dropping = clients, mode == "drop"
        for pipe in list(self._pipes):
            if self._cut(pipe.client_id):
                pipe.flowing.clear()
                if not self._one_way:
                    pipe.flowing_back.clear()
                if self._dropping:
                    self._pipes.discard(pipe)
                    pipe.close()

    async def _resume(self) -> None:
        self._paused, self._dropping = None, False
        for pipe in list(self._pipes):
            pipe.flowing.set()
            pipe.flowing_back.set()

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for pipe in list(self._pipes):
            pipe.close()
        self._pipes.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await asyncio.wait_for(reader.read(65536), 2.0)
        except (TimeoutError, OSError):
            first = b""
        client_id = kafka_client_id(first)
        if self._existing_only:  # opened during an existing-only pause: let through
            client_id = ""
        if self._cut(client_id) and self._dropping:
            writer.transport.abort()
            return
        flowing, flowing_back = asyncio.Event(), asyncio.Event()
        while self._cut(client_id):  # held: accepted by the kernel, never answered
            await asyncio.sleep(0.05)
            if self._dropping:
                writer.transport.abort()
                return
        flowing.set()
        flowing_back.set()
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.connections_total += 1
        pipe = _Pipe(reader, writer, up_reader, up_writer, client_id, flowing, flowing_back)
        self._pipes.add(pipe)
        if first:
            up_writer.write(first)
        pipe.tasks = [
            asyncio.create_task(self._pump(reader, up_writer, pipe, pipe.flowing)),
            asyncio.create_task(self._pump(up_reader, writer, pipe, pipe.flowing_back)),
        ]

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, pipe: _Pipe, flowing: asyncio.Event
    ) -> None:
        try:
            while True:
                data = await source.read(65536)
                if not data:
                    break
                await flowing.wait()  # paused: hold the bytes, forward nothing
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            return
        self._pipes.discard(pipe)
        pipe.close()
