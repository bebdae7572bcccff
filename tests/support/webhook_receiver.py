"""A real HTTP endpoint for webhook tests: a threaded http.server on a free loopback port
that checks each request's signature with `verify`, the way a partner's receiver would.

It can also misbehave the ways a partner's endpoint does, to test that one endpoint cannot
hurt the others: hold every reply until told (`hold`), trickle its reply's header one byte
at a time (`trickle_s`), or answer an error with a huge body generated as it is sent
(`huge_error_bytes`). It counts the requests open at once, in all and per delivery, and
notices when the client hangs up before the reply is over."""

import json
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jsonschema

from regia_notifier.domain.signature import verify
from regia_notifier.entrypoints import payload_schema

CHUNK = 64 * 1024


def schema_errors(requests: "list[Received]", schema: dict[str, Any] | None = None) -> list[str]:
    """What the published JSON Schema of webhook payloads (the checked-in file, or `schema`,
    e.g. as the notifier serves it) finds wrong with the bodies received: none, if every one
    of them conforms. Only requests signed by the notifier are looked at."""
    validator = jsonschema.Draft202012Validator(
        schema or payload_schema.checked_in(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return [
        f"{e.json_path}: {e.message}" for r in requests if r.verified for e in validator.iter_errors(json.loads(r.body))
    ]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int
    opened_at: float = 0.0  # time.monotonic()
    ended_at: float | None = None  # when the reply was over, or the client hung up
    hung_up: bool = False  # the client closed the connection before the reply was over
    reply_bytes: int = 0  # bytes of the reply's body written to the socket


@dataclass
class WebhookReceiver:
    """Answers 401 to a request whose signature does not verify, 503 to the first
    `fail_first` verified ones, and 204 afterwards. Set `secret` once it is known.

    `hold`: verified requests wait for this event before they are answered (or for the
    client to hang up). `trickle_s`: the reply's status line goes out at once, then one
    byte of a header every `trickle_s` seconds for `trickle_for_s`: never complete, never
    silent long enough for a per-read timeout. `huge_error_bytes`: verified requests get a
    500 whose body is that many bytes, generated chunk by chunk, never stored."""

    fail_first: int = 0
    secret: str | None = None
    hold: threading.Event | None = None
    trickle_s: float | None = None
    trickle_for_s: float = 30.0
    huge_error_bytes: int | None = None
    requests: list[Received] = field(default_factory=list)
    open_now: int = 0
    most_open: int = 0
    most_open_per_delivery: dict[str, int] = field(default_factory=dict)
    _sockets_per_delivery: dict[str, list[socket.socket]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/regia"

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.status == 204 and not r.hung_up]

    @property
    def rejected(self) -> list[Received]:
        return [r for r in self.requests if r.status == 401]

    @property
    def ended(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.ended_at is not None]

    def _opened(self, headers: dict[str, str], body: bytes, ok: bool, connection: socket.socket) -> Received:
        delivery = headers.get("X-Regia-Delivery-Id", "")
        with self._lock:
            # Open at once means open on the wire: a call the notifier already hung up on
            # counts as over even if its handler thread has not noticed yet (it looks only
            # between trickled bytes, and a busy machine delays it further).
            alive = [c for c in self._sockets_per_delivery.get(delivery, []) if not peer_closed(c)]
            self._sockets_per_delivery[delivery] = [*alive, connection]
            verified_so_far = sum(1 for r in self.requests if r.verified)
            status = (
                401
                if not ok
                else 500
                if self.huge_error_bytes is not None
                else 503
                if verified_so_far < self.fail_first
                else 204
            )
            received = Received(headers, body, ok, status, opened_at=time.monotonic())
            self.requests.append(received)
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
            now = len(self._sockets_per_delivery[delivery])
            self.most_open_per_delivery[delivery] = max(self.most_open_per_delivery.get(delivery, 0), now)
        return received

    def _closed(self, received: Received, connection: socket.socket, *, hung_up: bool) -> None:
        delivery = received.headers.get("X-Regia-Delivery-Id", "")
        with self._lock:
            received.ended_at, received.hung_up = time.monotonic(), hung_up
            self.open_now -= 1
            sockets = self._sockets_per_delivery.get(delivery, [])
            if connection in sockets:
                sockets.remove(connection)

    def __enter__(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = receiver.secret is not None and verify(
                    receiver.secret,
                    self.headers.get("X-Regia-Signature", ""),
                    self.headers.get("X-Regia-Timestamp", ""),
                    body,
                    now=time.time(),
                )
                received = receiver._opened(dict(self.headers), body, ok, self.connection)
                status = received.status
                hung_up = False
                try:
                    hung_up = self._misbehave(received) if ok else False
                    if not hung_up and status != 500:
                        self.send_response(status)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                except OSError:  # the client hung up while we wrote
                    hung_up = True
                finally:
                    receiver._closed(received, self.connection, hung_up=hung_up)

            def _misbehave(self, received: Received) -> bool:
                """True if the client hung up before the reply was over."""
                if receiver.hold is not None:
                    while not receiver.hold.wait(0.05):
                        if self._client_gone():
                            return True
                if receiver.trickle_s is not None:
                    self.wfile.write(f"HTTP/1.0 {received.status} Slow\r\nX-Slow: ".encode())
                    until = time.monotonic() + receiver.trickle_for_s
                    while time.monotonic() < until:
                        time.sleep(receiver.trickle_s)
                        if self._client_gone():
                            return True
                        self.wfile.write(b"z")
                    self.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
                    return False
                if receiver.huge_error_bytes is not None:
                    self.send_response(500)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(receiver.huge_error_bytes))
                    self.end_headers()
                    chunk = b"upstream exploded; " * (CHUNK // 19) + b"x" * (CHUNK % 19)
                    left = receiver.huge_error_bytes
                    while left > 0:
                        part = chunk[: min(left, CHUNK)]
                        self.wfile.write(part)
                        received.reply_bytes += len(part)
                        left -= len(part)
                return False

            def _client_gone(self) -> bool:
                return peer_closed(self.connection)

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        if self.hold is not None:
            self.hold.set()  # let held requests end
        self._server.shutdown()
        self._server.server_close()


def peer_closed(connection: socket.socket) -> bool:
    """True once the other end has closed (or reset) the connection; never blocks."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        if not readable:
            return False
        return connection.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):  # reset, or already closed on this side
        return True
