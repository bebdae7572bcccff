"""The benchmark's lean HTTP client against a real TCP server: it must read what it is
sent, reuse its connection, and count a broken answer as a failure instead of hanging."""

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest

from regia.bench.http_load import LoadClients, LoadError


async def serve(answers: list[bytes]) -> tuple[asyncio.Server, list[bytes], list[int]]:
    """Answers requests in order, one canned reply each; records requests and connections."""
    requests: list[bytes] = []
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(
                    next(
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                )
                requests.append(head + await reader.readexactly(length))
                writer.write(answers.pop(0))
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, requests, connections


def answer_once(connections: list[int], *, wait_for_the_next: bool) -> Callable[..., Awaitable[None]]:
    """A server's handler that answers one request and closes the connection: at once (an
    idle close, seen before the next request), or when the next request arrives, unanswered
    (the close and the request crossing)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}")
        await writer.drain()
        if wait_for_the_next:
            await reader.readuntil(b"\r\n\r\n")
        writer.close()

    return handle


def test_posts_json_and_reads_both_framings_on_one_connection() -> None:
    async def scenario() -> None:
        server, requests, connections = await serve(
            [
                b'HTTP/1.1 202 Accepted\r\ncontent-length: 11\r\n\r\n{"ok":true}',
                b'HTTP/1.1 422 Unprocessable\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n',
            ]
        )
        port = server.sockets[0].getsockname()[1]
        async with LoadClients(1, base_url=f"http://127.0.0.1:{port}", headers={"Authorization": "Bearer k"}) as c:
            first = await c.post("/v1/x", json={"n": 1}, headers={"Idempotency-Key": "i-1"})
            second = await c.post("/v1/x", json={"n": 2})
        server.close()
        assert (first.status_code, first.json()) == (202, {"ok": True})
        assert (second.status_code, second.json()) == (422, {"a": 1})
        assert len(connections) == 1  # kept alive
        assert b"Authorization: Bearer k\r\n" in requests[0] and b"Idempotency-Key: i-1\r\n" in requests[0]
        assert json.loads(requests[1].split(b"\r\n\r\n", 1)[1]) == {"n": 2}

    asyncio.run(scenario())


def test_a_truncated_answer_is_a_failure_and_the_connection_is_replaced() -> None:
    async def scenario() -> None:
        server, _, connections = await serve(
            [
                b'HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{"short"',  # then the server hangs up
            ]
        )
        port = server.sockets[0].getsockname()[1]
        async with LoadClients(1, base_url=f"http://127.0.0.1:{port}", timeout=5) as c:
            with pytest.raises(LoadError):
                await c.post("/v1/x", json={})
            with pytest.raises(LoadError):  # a new connection, which this server answers no more
                await c.post("/v1/x", json={})
        server.close()
        assert len(connections) == 2

    asyncio.run(scenario())


def test_a_connection_the_server_closed_while_idle_is_replaced_not_failed() -> None:
    """A service closes a kept-alive connection idle for REGIA_HTTP_KEEP_ALIVE_S: the next request
    on it must go on a new connection, not count as a failure."""

    async def scenario() -> None:
        connections: list[int] = []
        server = await asyncio.start_server(answer_once(connections, wait_for_the_next=False), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with LoadClients(1, base_url=f"http://127.0.0.1:{port}", timeout=5) as c:
            assert (await c.post("/v1/x", json={})).status_code == 202
            await asyncio.sleep(0.1)  # the server's close arrives
            assert (await c.post("/v1/x", json={})).status_code == 202
        server.close()
        assert len(connections) == 2

    asyncio.run(scenario())


def test_the_pool_says_how_many_connections_a_load_needed_and_opens_no_more() -> None:
    async def scenario() -> None:
        connections: list[int] = []

        async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.append(1)
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    await reader.readexactly(length)
                    await asyncio.sleep(0.05)
                    writer.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}")
                    await writer.drain()
            except asyncio.IncompleteReadError:
                writer.close()

        server = await asyncio.start_server(slow, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with LoadClients(8, base_url=f"http://127.0.0.1:{port}", timeout=5) as c:
            await asyncio.gather(*(c.post("/v1/x", json={}) for _ in range(3)))
            assert (c.peak_lent, c.waited, c.lent) == (3, 0, 0)
            for _ in range(4):  # one at a time: the connections just used carry them
                await c.post("/v1/x", json={})
        async with LoadClients(2, base_url=f"http://127.0.0.1:{port}", timeout=5) as small:
            await asyncio.gather(*(small.post("/v1/x", json={}) for _ in range(3)))
            assert (small.peak_lent, small.waited) == (2, 1)
        server.close()
        assert len(connections) == 3 + 2

    asyncio.run(scenario())


def test_a_request_crossing_the_servers_close_is_sent_again_only_with_an_idempotency_key() -> None:
    """The server closes a kept-alive connection just as a request goes out on it (uvicorn's
    idle timeout and the next request crossing): the client cannot have seen the close, and
    the request never got an answer. With an Idempotency-Key it is sent again on a new
    connection, safely; without one it is a failure, as it would be for any client."""

    async def scenario() -> None:
        connections: list[int] = []
        server = await asyncio.start_server(answer_once(connections, wait_for_the_next=True), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with LoadClients(1, base_url=f"http://127.0.0.1:{port}", timeout=5) as c:
            key = {"Idempotency-Key": "k-1"}
            assert (await c.post("/v1/x", json={}, headers=key)).status_code == 202
            assert (await c.post("/v1/x", json={}, headers=key)).status_code == 202  # sent again
            assert len(connections) == 2
            with pytest.raises(LoadError):
                await c.post("/v1/x", json={})  # no key: not sent again
            assert len(connections) == 2
        server.close()

    asyncio.run(scenario())
