"""What operators need from every service's HTTP side: `/metrics`, `/health/live`,
`/health/ready`, and request metrics by route template and status (bounded labels)."""

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

ReadinessCheck = Callable[[], Awaitable[None]]


def ops_router(registry: CollectorRegistry, checks: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready")
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
            {"status": "ok" if healthy else "unavailable", "checks": results},
            status_code=200 if healthy else 503,
        )

    return router


def instrument_http(app: FastAPI, registry: CollectorRegistry, service: str) -> None:
    requests = Counter(
        "regia_http_requests_total", "HTTP requests by route template and status",
        ["service", "method", "route", "status"], registry=registry,
    )
    duration = Histogram(
        "regia_http_request_duration_seconds", "HTTP request duration",
        ["service", "method", "route"], registry=registry,
    )

    @app.middleware("http")
    async def measure(request: Request, call_next):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        response = await call_next(request)
        route = _route_template(request)
        requests.labels(service, request.method, route, str(response.status_code)).inc()
        duration.labels(service, request.method, route).observe(time.perf_counter() - start)
        return response


def _route_template(request: Request) -> str:
    # The template, never the raw path: ids in label values would grow without bound.
    route = request.scope.get("route")
    return getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched"
