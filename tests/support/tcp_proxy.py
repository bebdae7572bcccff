"""A TCP proxy a test can cut: the network between a service and the broker, paused.

`TcpProxy(target_port)` listens on a free loopback port and forwards every connection to
the target. `pause()` stops forwarding: in "hold" mode (the default) the connections stay
open but no byte crosses, in either direction, and new connections are accepted but not
served, which is what a partitioned network looks like to both ends until their own
timeouts fire; in "drop" mode every connection is reset and new ones are refused until
`resume()`. Runs in its own thread with its own event loop, so the test's loop, blocked
or not, never slows the traffic down.
"""

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field

from regia.embedded.process import free_port


@dataclass(eq=False)  # hashed by identity: the proxy keeps a set of open pipes
class _Pipe:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    upstream_reader: asyncio.StreamReader
    upstream_writer: asyncio.StreamWriter
    tasks: list[asyncio.Task] = field(default_factory=list)

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for w in (self.writer, self.upstream_writer):
            with contextlib.suppress(Exception):
                w.transport.abort()  # a reset, not a polite FIN


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1", port: int | None = None) -> None:
        self.target_host, self.target_port = target_host, target_port
        self.port = port or free_port()
        self.connections_total = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._flowing: asyncio.Event | None = None
        self._dropping = False
        self._pipes: set[_Pipe] = set()
        self._server: asyncio.AbstractServer | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def paused(self) -> bool:
        return self._flowing is not None and not self._flowing.is_set()

    # --- control, from any thread -----------------------------------------------------
    def start(self) -> "TcpProxy":
        self._thread.start()
        self._call(self._start())
        return self

    def pause(self, mode: str = "hold") -> None:
        if mode not in ("hold", "drop"):
            raise ValueError("mode is 'hold' or 'drop'")
        self._call(self._pause(mode))

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
    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _pause(self, mode: str) -> None:
        assert self._flowing is not None
        self._flowing.clear()
        self._dropping = mode == "drop"
        if self._dropping:
            for pipe in list(self._pipes):
                pipe.close()
            self._pipes.clear()

    async def _resume(self) -> None:
        assert self._flowing is not None
        self._dropping = False
        self._flowing.set()

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for pipe in list(self._pipes):
            pipe.close()
        self._pipes.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        if self._dropping:
            writer.transport.abort()
            return
        await self._flowing.wait()  # held: accepted by the kernel, never answered
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.connections_total += 1
        pipe = _Pipe(reader, writer, up_reader, up_writer)
        self._pipes.add(pipe)
        pipe.tasks = [asyncio.create_task(self._pump(reader, up_writer, pipe)),
                      asyncio.create_task(self._pump(up_reader, writer, pipe))]

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, pipe: _Pipe) -> None:
        assert self._flowing is not None
        try:
            while True:
                data = await source.read(65536)
                if not data:
                    break
                await self._flowing.wait()  # paused: hold the bytes, forward nothing
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            return
        self._pipes.discard(pipe)
        pipe.close()
