"""A service that closes a kept-alive connection as the console's call goes out on it (a
restart closes them all): a read is asked once more, and the page shows what the service
holds instead of "unavailable"; a write is never sent twice by the console, and the page says
the service did not answer. A real TCP server on loopback, answering HTTP/1.1 by hand so that
it can close the connection exactly then."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from regia_console.gateway import Gateway, Unavailable


async def _server(cut_second_request: bool) -> tuple[asyncio.Server, list[bytes]]:
    """Answers every request 200 {"ok": true}, except the second on its first connection,
    which it reads and then closes the connection on without a word."""
    requests: list[bytes] = []
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        first_connection = connections == 1
        on_this_connection = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                requests.append(head.split(b"\r\n")[0])
                on_this_connection += 1
                if cut_second_request and first_connection and on_this_connection == 2:
                    writer.transport.abort()  # as a server going away: no answer
                    return
                body = json.dumps({"ok": True}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0), requests


@asynccontextmanager
async def _gateway_to(service: str, cut_second_request: bool) -> AsyncIterator[tuple[Gateway, list[bytes]]]:
    """The console's gateway, its `service` served by `_server`; the requests that server read."""
    server, requests = await _server(cut_second_request)
    port = server.sockets[0].getsockname()[1]
    gateway = Gateway({service: f"http://127.0.0.1:{port}"})
    try:
        yield gateway, requests
    finally:
        await gateway.close()
        server.close()


@pytest.mark.parametrize("cut", [True, False])
def test_a_read_cut_off_is_asked_once_more(cut: bool) -> None:
    async def scenario() -> list[bytes]:
        async with _gateway_to("objectives", cut) as (gateway, requests):
            assert await gateway.get("objectives", "/v1/objectives", "token") == {"ok": True}
            assert await gateway.get("objectives", "/v1/objectives", "token") == {"ok": True}
        return requests

    requests = asyncio.run(scenario())
    assert len(requests) == (3 if cut else 2), requests


def test_a_write_cut_off_is_not_sent_again() -> None:
    async def scenario() -> list[bytes]:
        async with _gateway_to("funding", True) as (gateway, requests):
            assert await gateway.get("funding", "/v1/instruments", "token") == {"ok": True}
            with pytest.raises(Unavailable, match="funding"):
                await gateway.post("funding", "/v1/instruments", "token", {"instrument_id": "x"}, reason="a test")
        return requests

    requests = asyncio.run(scenario())
    assert [r.split(b" ")[0] for r in requests] == [b"GET", b"POST"], requests
