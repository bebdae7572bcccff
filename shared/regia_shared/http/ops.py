"""What operators need from every service's HTTP side: `/metrics`, `/health/live`,
`/health/ready`, and request metrics by route template and status (bounded labels)."""

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .access import PUBLIC_READ

ReadinessCheck = Callable[[], Awaitable[None]]


class Liveness(BaseModel):
    status: str = Field(description="ok whenever the process answers")


class Readiness(BaseModel):
    status: str = Field(description="ok, or unavailable (then the answer is a 503)")
    # Whoever waits for a service on a port checks that it is that service which answers,
    # not another process that took the port first (an address already in use).
    service: str = Field(description="Which service answered: funding, objectives, partners or notifier")
    checks: dict[str, str] = Field(description="Each dependency (database, broker): ok or failing: <error>")


def ops_router(registry: CollectorRegistry, checks: dict[str, ReadinessCheck], service: str) -> APIRouter:
    # Probes and metrics are anonymous: an orchestrator and Prometheus hold no token, and
    # they say nothing about the data (docs/security.md, "What is public").
    router = APIRouter(tags=["operations"], dependencies=[PUBLIC_READ])

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @router.get("/health/live")
    async def live() -> Liveness:
        return Liveness(status="ok")

    @router.get(
        "/health/ready",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "A dependency is failing"}},
    )
    async def ready() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:  # report, never raise: this is a probe
                results[name] = f"failing: {type(exc).__name__}"
        healthy = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "service": service, "checks": results},
            status_code=200 if healthy else 503,
        )

    return router


def instrument_http(app: FastAPI, registry: CollectorRegistry, service: str) -> None:
    requests = Counter(
        "regia_http_requests_total",
        "HTTP requests by route template and status",
        ["service", "method", "route", "status"],
        registry=registry,
    )
    duration = Histogram(
        "regia_http_request_duration_seconds",
        "HTTP request duration",
        ["service", "method", "route"],
        registry=registry,
    )
    app.add_middleware(HttpMetrics, service=service, requests=requests, duration=duration)


class HttpMetrics:
    """Counts and times every request by route template and status. A plain ASGI
    middleware, not `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs the rest
    of the app in a task group of its own and streams the response through a memory
    channel, which cost the funding service a sixth of its CPU per request."""

    def __init__(self, app: ASGIApp, *, service: str, requests: Counter, duration: Histogram) -> None:
        self.app, self._service, self._requests, self._duration = app, service, requests, duration

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = _route_template(scope)
            self._requests.labels(self._service, scope["method"], route, str(status)).inc()
            self._duration.labels(self._service, scope["method"], route).observe(time.perf_counter() - start)


def _route_template(scope: Scope) -> str:
    # The template, never the raw path: ids in label values would grow without bound.
    route = scope.get("route")
    return getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched"
