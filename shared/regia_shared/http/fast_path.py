"""A hot route answered without FastAPI's per-request dependency solving, for the requests
it can answer exactly as the FastAPI route would; every other request goes on to that route.

Why this exists. FastAPI (0.165) solves a route's dependencies anew for every request: for
each dependency and each declared header it recomputes cache keys, security scopes and the
parameter's model type before it validates anything, and it matches a request against
every route of the routers included before the one that answers. For `POST
/v1/funding-events`, the route institutions call once per event, that came to about 230 µs
of the funding service's CPU per request, measured in-process: a quarter of what the service
spent on the request, database round trips included (docs/performance.md, "Issue 21,
nineteenth session"). At 1,500 requests a second the funding service was the process that
saturated first.

What it guarantees:
- The FastAPI route stays the one declared: the OpenAPI document, the access policy and the
  error answers are its own. A `FastPath` only ever answers the happy path; a request it
  `declines` (any doubt: a query string, a header it does not check itself, a body that does
  not validate, a credential not verified by the same function the dependency calls) is
  routed again, with its body replayed, past the fast path to the FastAPI route, which then
  answers it exactly as it always did, errors included.
- Before it declines, a handler may only do what the FastAPI route would redo the same way
  (verifying the same key, parsing the same body). Anything with an effect of its own, such
  as taking from a rate limit or recording, happens after the last point of declining.
- What the route's own code does, the fast path calls: the same use case, the same
  `write_context`, the same response. `scope["route"]` is the FastAPI route, so the
  metrics, the audit middleware and the write's audit row name the same route template.
- `regia_http_fast_path_requests_total{route, outcome}` counts the requests a fast path
  answered (its use case's refusals included) and those it declined, so the two add up to
  every request that reached the route: a fast path that declines everything after a change
  still answers right, only slower, and this is where that shows.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry, Counter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, get_route_path
from starlette.types import Receive, Scope, Send

from regia_shared.http.limits import replayed_body

# Set on a request's scope once a fast path has declined it: routing again, it skips them all.
DECLINED = "regia.fast_path.declined"

Handler = Callable[[Request, bytes], Awaitable[Response | None]]


def outcomes(registry: CollectorRegistry) -> Counter:
    """The counter every fast path of a service counts its requests on."""
    return Counter(
        "regia_http_fast_path_requests_total",
        "Requests a route's fast path answered itself, or declined and left to the route",
        ["route", "outcome"],
        registry=registry,
    )


class FastPath(BaseRoute):
    """`handler(request, body)` answers requests to `route`'s path with `method` that carry
    no query string, or returns None to hand the request to `route` itself."""

    def __init__(self, route: APIRoute, method: str, handler: Handler, counted: Counter) -> None:
        if method not in (route.methods or ()):
            raise ValueError(f"{route.path} does not answer {method}")
        self.route, self.method, self.handler = route, method, handler
        self.path = self.path_format = route.path_format
        self.name = f"{route.name}:fast"
        self.include_in_schema = False
        self._answered = counted.labels(route.path_format, "answered")
        self._declined = counted.labels(route.path_format, "declined")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] == "http"
            and scope["method"] == self.method
            and not scope.get("query_string")
            and DECLINED not in scope
            and get_route_path(scope) == self.path
        ):
            return Match.FULL, {"route": self.route}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _body(receive)
        if body is None:  # the client went away before its body came
            return
        try:
            response = await self.handler(Request(scope, replayed_body(body, receive)), body)
        except Exception:
            # Taken, and refused by the route's own use case (a reason missing, say): the
            # app's handlers answer it as they answer the route's.
            self._answered.inc()
            raise
        if response is not None:
            self._answered.inc()
            await response(scope, receive, send)
            return
        self._declined.inc()
        scope[DECLINED] = True
        router: Any = scope["router"]  # the app's, which routed it here
        await router(scope, replayed_body(body, receive), send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        return self.route.url_path_for(name, **path_params)


async def _body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def install(app: Any, fast: FastPath) -> None:
    """Put `fast` before every other route of `app`, so it is the first tried."""
    app.router.routes.insert(0, fast)
