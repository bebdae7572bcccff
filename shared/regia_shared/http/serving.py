"""How every service is served: uvicorn (its h11 protocol, the one a plain `uvicorn`
install runs) with the options all four share, and a deadline for reading a request's
head that uvicorn does not have.

Why the hand-written protocol class: uvicorn (up to 0.55 at least) bounds a request head's
size (`h11_max_incomplete_event_size`) but not the time it takes. Its only timer,
`timeout_keep_alive`, covers the silence between two requests and is cancelled by every
byte received (`data_received`), and a new connection has no timer at all. So a client
sending its headers a byte at a time (slowloris), or connecting and sending nothing,
holds a connection, and a file descriptor, for as long as it likes; an ASGI middleware
cannot help, as it runs only once the head is complete. `HeaderDeadline` adds what other
servers call a header read timeout (Go's ReadHeaderTimeout, nginx's
client_header_timeout): the request line and headers must be complete within
REGIA_HTTP_HEADER_TIMEOUT_S of the connection being made or, on a kept-alive connection,
of the next request's first byte; otherwise the connection is closed. The body is not
covered (a route reads it, under RequestLimits' size bound). It reads uvicorn's protocol
only through `conn` (the h11 connection, whose `their_state` is IDLE until the head is
in) and `transport`, and overrides three asyncio.Protocol callbacks.
"""

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from regia_shared.observability.logs import get_logger
from regia_shared.settings import ServiceSettings

log = get_logger(__name__)


class HeaderDeadline(H11Protocol):
    header_timeout_s: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's own H11Protocol: it narrows asyncio.Protocol's BaseTransport to Transport
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._watch_head()  # a connection that never sends a byte is cut off too

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _watch_head(self) -> None:
        """Arm the deadline while the client owes us a request head, disarm it once the
        head is in. Armed once per request: more bytes do not push it back."""
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_too_slow)
        else:
            self._stop_head_timer()

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            # No answer: nothing was asked yet (h11 cannot send a response to no request),
            # and a client this slow on purpose reads none. Debug only: a flood of these must
            # not become a flood of log lines.
            log.debug("connection closed: request head not received in time", timeout_s=self.header_timeout_s)
            self.transport.close()


def header_deadline(timeout_s: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a request-head deadline of `timeout_s` seconds."""
    return type("HeaderDeadlineH11", (HeaderDeadline,), {"header_timeout_s": timeout_s})


def connection_options(header_timeout_s: float, keep_alive_s: float) -> dict[str, Any]:
    """How long uvicorn waits on a connection, for the services and the console alike: the
    request-head deadline above, and how long an idle kept-alive connection is held.

    Why the keep-alive is long (75 s, uvicorn's default is 5): of the two ends of an idle
    connection, the one that closes it must be the one that sends on it. A server that closes
    first races every client that reuses the connection at that moment: the request goes out
    as the server's close comes in, and the client reads a reset or an empty answer, not
    knowing whether the request was applied. httpx keeps an idle connection 5 s, the very
    time uvicorn gave it, and on a loaded machine httpx's check that the connection is still
    open and its write came tens of milliseconds apart: in one CI run 97 of 1,000 requests of
    tests/load/test_sustained_load.py failed with a reset, and the console answered a page
    with a 503 (one of its calls to a service failed, most likely the same way).
    Held 75 s (nginx's default), every client pool we know lets the connection go first
    (httpx 5 s, aiohttp 15 s, ingress-nginx's upstream keep-alive 60 s). An idle connection
    costs a file descriptor and a few KiB; one that never sends a request is cut off by the
    head deadline long before."""
    return {"http": header_deadline(header_timeout_s), "timeout_keep_alive": keep_alive_s}


def uvicorn_options(settings: ServiceSettings, port: int, host: str | None = None) -> dict[str, Any]:
    """The keyword arguments of uvicorn.run / uvicorn.Config every service is served with."""
    return {
        "host": host or settings.http_host,
        "port": port,
        "log_config": None,
        "access_log": False,
        # X-Forwarded-For is believed only from REGIA_TRUSTED_PROXIES (regia_shared.http.audit),
        # not from uvicorn's default of loopback.
        "proxy_headers": False,
        **connection_options(settings.http_header_timeout_s, settings.http_keep_alive_s),
    }
