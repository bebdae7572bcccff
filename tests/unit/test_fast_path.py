"""A fast path (regia_shared.http.fast_path) on a small app of its own: what it takes, what
it leaves to the FastAPI route, and that a request it declines reaches the route with its
body whole. The funding service's own fast path is tested against the running service in
tests/integration/test_funding_fast_path.py."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header, Request
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from starlette.responses import JSONResponse

from regia_shared.http import fast_path


class Thing(BaseModel):
    name: str


def app_with_fast_path() -> tuple[FastAPI, CollectorRegistry, list[str]]:
    app, registry, seen = FastAPI(), CollectorRegistry(), []

    @app.post("/v1/things", status_code=202)
    async def post_thing(thing: Thing, key: str = Header(alias="X-Key")) -> JSONResponse:
        seen.append("route")
        return JSONResponse({"name": thing.name, "by": "route"}, 202)

    route = next(r for r in app.router.routes if isinstance(r, APIRoute) and r.path == "/v1/things")

    async def answer(request: Request, body: bytes) -> JSONResponse | None:
        if request.headers.get("x-key") != "plain":
            return None
        assert request.scope["route"] is route  # what metrics and the audit read
        seen.append("fast")
        return JSONResponse({"name": Thing.model_validate_json(body).name, "by": "fast"}, 202)

    fast_path.install(app, fast_path.FastPath(route, "POST", answer, fast_path.outcomes(registry)))
    return app, registry, seen


def counted(registry: CollectorRegistry, outcome: str) -> Any:
    return registry.get_sample_value("regia_http_fast_path_requests_total", {"route": "/v1/things", "outcome": outcome})


async def test_the_fast_path_answers_and_a_declined_request_reaches_the_route_whole() -> None:
    app, registry, seen = app_with_fast_path()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        fast = await client.post("/v1/things", json={"name": "a"}, headers={"X-Key": "plain"})
        routed = await client.post("/v1/things", json={"name": "b"}, headers={"X-Key": "other"})
        refused = await client.post("/v1/things", json={"nome": "c"}, headers={"X-Key": "other"})
        asked = await client.post("/v1/things?x=1", json={"name": "d"}, headers={"X-Key": "plain"})
        other_method = await client.get("/v1/things")
    assert fast.json() == {"name": "a", "by": "fast"}
    assert routed.json() == {"name": "b", "by": "route"}  # the body was replayed to the route
    assert refused.status_code == 422  # FastAPI's own refusal
    assert asked.json() == {"name": "d", "by": "route"}  # a query string is never taken
    assert other_method.status_code == 405
    assert seen == ["fast", "route", "route"]
    assert counted(registry, "answered") == 1 and counted(registry, "declined") == 2


def test_a_fast_path_must_answer_a_method_its_route_does() -> None:
    app, _, _ = app_with_fast_path()
    route = next(r for r in app.router.routes if isinstance(r, APIRoute) and r.path == "/v1/things")
    with pytest.raises(ValueError, match="does not answer GET"):
        fast_path.FastPath(route, "GET", lambda request, body: None, fast_path.outcomes(CollectorRegistry()))  # type: ignore[arg-type, return-value]


def test_the_openapi_document_does_not_see_the_fast_path() -> None:
    app, _, _ = app_with_fast_path()
    plain = FastAPI()
    plain.router.routes.extend(r for r in app.router.routes if not isinstance(r, fast_path.FastPath))
    assert app.openapi()["paths"] == plain.openapi()["paths"]
    assert list(app.openapi()["paths"]) == ["/v1/things"]
