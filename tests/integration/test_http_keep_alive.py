"""A kept-alive connection left idle is held by a service longer than any client pool keeps
one, so the client always lets it go first and never sends a request into the server's
close (regia_shared.http.serving.connection_options). uvicorn's own default, 5 s, is
httpx's too: a request sent at that moment was answered by a reset (97 of 1,000 in one CI
run of tests/load/test_sustained_load.py). REGIA_HTTP_KEEP_ALIVE_S still ends an idle
connection, so idle clients do not hold descriptors for ever."""

import asyncio

import pytest

from ..support.services import in_process

pytestmark = pytest.mark.usefixtures("service_env")
REQUEST = b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"
PAST_EVERY_CLIENT_POOL_S = 6.0  # httpx lets an idle connection go after 5 s, uvicorn's own default


async def _partners(monkeypatch, keep_alive_s: float | None):  # type: ignore[no-untyped-def]
    if keep_alive_s is None:
        monkeypatch.delenv("REGIA_HTTP_KEEP_ALIVE_S", raising=False)
    else:
        monkeypatch.setenv("REGIA_HTTP_KEEP_ALIVE_S", str(keep_alive_s))
    from regia_partners.app import create_app

    return in_process("partners", create_app)


async def _answered(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """Send a request on the connection; the answer's status line, or b"" if it was closed."""
    writer.write(REQUEST)
    await writer.drain()
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    except (asyncio.IncompleteReadError, ConnectionError):
        return b""
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    await reader.readexactly(length)
    return head.split(b"\r\n")[0]


async def test_an_idle_connection_is_answered_after_every_client_pool_would_have_dropped_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async with await _partners(monkeypatch, None) as service:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        try:
            assert await _answered(reader, writer) == b"HTTP/1.1 200 OK"
            await asyncio.sleep(PAST_EVERY_CLIENT_POOL_S)
            assert not reader.at_eof(), "the service closed an idle connection a client pool may still use"
            assert await _answered(reader, writer) == b"HTTP/1.1 200 OK"
        finally:
            writer.close()


async def test_the_keep_alive_setting_ends_an_idle_connection(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async with await _partners(monkeypatch, 0.5) as service:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        try:
            assert await _answered(reader, writer) == b"HTTP/1.1 200 OK"
            closed = await asyncio.wait_for(reader.read(1), 10)  # nothing more to say: the close
            assert closed == b"", closed
        finally:
            writer.close()
