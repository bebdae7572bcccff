"""Issue 22, header read timeouts: a client that opens a connection and sends its request
line and headers a byte at a time (slowloris), or nothing at all, is cut off once
REGIA_HTTP_HEADER_TIMEOUT_S has passed since the connection (or, on a kept-alive
connection, its next request) began. uvicorn has no such deadline: its keep-alive timer is
reset by every byte received, so before, such a connection was held for as long as the
client liked, and a few hundred of them held every connection a replica can take."""

import asyncio
import time

import pytest

from ..support.figures import record
from ..support.services import RunningService

pytestmark = pytest.mark.usefixtures("service_env")
TIMEOUT_S = 1.0
GIVE_UP_S = 30.0  # far beyond the deadline: a server without one keeps the connection this long


@pytest.fixture
async def slow_partners(service_env, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_HTTP_HEADER_TIMEOUT_S", str(TIMEOUT_S))
    from regia_partners.app import create_app

    from ..support.services import in_process

    async with in_process("partners", create_app) as service:
        yield service


async def _trickle(service: RunningService, head: bytes, every_s: float) -> tuple[bool, float]:
    """Send `head` a byte every `every_s`, then keep silent; (cut off?, seconds it took)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    start = time.monotonic()
    try:
        for byte in head:
            writer.write(bytes([byte]))
            try:
                await writer.drain()
            except ConnectionError:
                return True, time.monotonic() - start
            try:
                if await asyncio.wait_for(reader.read(1024), every_s) == b"":
                    return True, time.monotonic() - start
            except TimeoutError:
                pass  # still open: go on trickling
            except ConnectionError:
                return True, time.monotonic() - start
            if time.monotonic() - start > GIVE_UP_S:
                return False, time.monotonic() - start
        try:
            closed = await asyncio.wait_for(reader.read(1024), max(0.1, GIVE_UP_S - (time.monotonic() - start)))
        except TimeoutError:
            return False, time.monotonic() - start
        except ConnectionError:
            return True, time.monotonic() - start
        return closed == b"", time.monotonic() - start
    finally:
        writer.close()


async def test_a_client_trickling_its_headers_or_sending_nothing_is_cut_off(slow_partners) -> None:  # type: ignore[no-untyped-def]
    head = b"GET /health/live HTTP/1.1\r\nHost: x\r\n" + b"".join(
        f"X-Pad-{i}: {'a' * 20}\r\n".encode() for i in range(40)
    )  # never the blank line ending it
    cut, seconds = await _trickle(slow_partners, head, every_s=0.2)
    assert cut, f"a client trickling its headers was still connected after {seconds:.0f} s"
    cut, seconds = await _trickle(slow_partners, b"", every_s=0.2)  # connects, then silence
    assert cut, f"a silent client was still connected after {seconds:.0f} s"

    # An ordinary client is served as before, and a kept-alive connection outlives the deadline
    # between its requests: the deadline is the header's, not the connection's.
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_partners.port)
    try:
        for _ in range(2):
            writer.write(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            assert answer.startswith(b"HTTP/1.1 200"), answer
            length = int(
                next(
                    line.split(b":")[1] for line in answer.split(b"\r\n") if line.lower().startswith(b"content-length")
                )
            )
            await reader.readexactly(length)
            await asyncio.sleep(TIMEOUT_S * 1.5)  # idle past the header deadline, within keep-alive (75 s)
    finally:
        writer.close()
    record("hostile http: slow headers (slowloris)", inputs=2, requests=4, euros_lost=0)


async def test_the_console_cuts_off_a_slow_client_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The console is served by its own uvicorn (python -m regia_console), not through the
    services' entry points: it gets the same request-head deadline."""
    import os
    import sys

    from regia.local.embedded.process import free_port

    from ..support.services import RunningService
    from ..support.wait import eventually

    port = free_port()
    env = {
        **os.environ,
        "REGIA_CONSOLE_PORT": str(port),
        "REGIA_HTTP_HEADER_TIMEOUT_S": str(TIMEOUT_S),
        "REGIA_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
    }  # nothing there: the feed waits
    log = (tmp_path / "console.log").open("wb")
    console = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "regia_console", env=env, stdout=log, stderr=log
    )
    try:

        async def listening() -> bool:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return False
            writer.close()
            return True

        await eventually(listening, timeout=60, what="the console listening")
        cut, seconds = await _trickle(
            RunningService("console", port),
            b"GET /login HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n" * 20,
            every_s=0.2,
        )
        assert cut, f"the console kept a client trickling its headers for {seconds:.0f} s"
    finally:
        if console.returncode is None:
            console.terminate()
        await asyncio.wait_for(console.wait(), timeout=30)
        log.close()
    record("hostile http: slow headers on the console", inputs=1, requests=1, euros_lost=0)
