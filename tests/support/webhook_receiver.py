"""A real HTTP endpoint for webhook tests: a threaded http.server on a free loopback port
that checks each request's signature with `verify`, the way a partner's receiver would."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from regia_notifier.domain.signature import verify


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int


@dataclass
class WebhookReceiver:
    """Answers 401 to a request whose signature does not verify, 503 to the first
    `fail_first` verified ones, and 204 afterwards. Set `secret` once it is known."""

    fail_first: int = 0
    secret: str | None = None
    requests: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/regia"

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.status == 204]

    @property
    def rejected(self) -> list[Received]:
        return [r for r in self.requests if r.status == 401]

    def __enter__(self) -> "WebhookReceiver":
        receiver, lock = self, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = receiver.secret is not None and verify(
                    receiver.secret, self.headers.get("X-Regia-Signature", ""),
                    self.headers.get("X-Regia-Timestamp", ""), body, now=time.time())
                with lock:
                    verified_so_far = sum(1 for r in receiver.requests if r.verified)
                    status = 401 if not ok else 503 if verified_so_far < receiver.fail_first else 204
                    receiver.requests.append(Received(dict(self.headers), body, ok, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
