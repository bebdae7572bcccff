"""The API contract every service keeps (docs/api.md, "The contract every endpoint keeps"),
checked against real services: an unknown query parameter is a 422 naming it, a list
parameter may be repeated, and an answer a client accepts gzip'd comes gzip'd, the same
JSON once decoded."""

import gzip
import json

import httpx
import pytest

from regia_partners.app import create_app as partners_app

from ..support.services import ADMIN_HEADERS, RunningService, in_process

pytestmark = pytest.mark.usefixtures("service_env")

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


async def raw(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The answer and its body as it came over the wire (httpx would decode it)."""
    async with client.stream("GET", path, headers=headers) as answer:
        body = b"".join([chunk async for chunk in answer.aiter_raw()])
    return answer, body


async def test_an_unknown_query_parameter_is_refused_naming_it_where_it_used_to_be_ignored(
    funding: RunningService,
) -> None:
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        # The README's old spelling: answered with the whole instance's totals until now.
        r = await admin.get("/v1/totals", params={"objective": "miglio-blu"})
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["error"] == "validation_failed" and body["field"] == "objective"
        assert body["message"].startswith("unknown query parameter 'objective'; this endpoint takes: ")
        assert "objective_id" in body["message"] and "by" in body["message"]
        assert body["details"] == [{"field": "objective", "message": "unknown query parameter"}]

        # A parameter declared as a list may come several times; a known one alone is fine.
        r = await admin.get("/v1/totals", params=[("by", "level"), ("by", "year")])
        assert r.status_code == 200, r.text
        r = await admin.get("/v1/totals", params={"objective_id": "miglio-blu"})
        assert r.status_code == 200, r.text

        # The parameters of a route's dependencies count as declared: the shared paging
        # `limit` of the dead letters; a route without any refuses every one.
        r = await admin.get("/v1/ops/dead-letters", params={"limit": 5})
        assert r.status_code == 200, r.text
        r = await admin.get("/health/live", params={"verbose": "1"})
        assert r.status_code == 422 and r.json()["field"] == "verbose"
        assert r.json()["message"] == "unknown query parameter 'verbose'; this endpoint takes no query parameters"


async def test_answers_are_gzipped_when_asked_and_decode_to_the_same_json(funding: RunningService) -> None:
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        plain, plain_bytes = await raw(admin, "/openapi.json", IDENTITY)
        zipped, zipped_bytes = await raw(admin, "/openapi.json", GZIP)
        assert plain.status_code == zipped.status_code == 200
        assert "content-encoding" not in plain.headers
        assert zipped.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in zipped.headers["vary"].lower()
        assert json.loads(gzip.decompress(zipped_bytes)) == json.loads(plain_bytes)
        assert len(zipped_bytes) * 3 < len(plain_bytes), (len(zipped_bytes), len(plain_bytes))

        # A small answer is not worth it: sent as it is.
        small, small_bytes = await raw(admin, "/health/live", GZIP)
        assert "content-encoding" not in small.headers and json.loads(small_bytes) == {"status": "ok"}

        # Prometheus asks for gzip and reads it: /metrics is compressed like the rest.
        metrics, metrics_bytes = await raw(admin, "/metrics", GZIP)
        assert metrics.headers["content-encoding"] == "gzip"
        assert b"regia_http_requests_total" in gzip.decompress(metrics_bytes)


async def test_a_large_listing_is_gzipped_and_pages_alike() -> None:
    async with in_process("partners", partners_app) as service, service.client(headers=ADMIN_HEADERS) as admin:
        for i in range(40):
            partner = {"partner_id": f"comune-{i:02d}", "name": f"Comune numero {i:02d}", "kind": "INSTITUTION"}
            assert (await admin.post("/v1/partners", json={**partner, "level": "COMUNE"})).status_code == 201
        plain, plain_bytes = await raw(admin, "/v1/partners?limit=40", IDENTITY)
        zipped, zipped_bytes = await raw(admin, "/v1/partners?limit=40", GZIP)
        assert zipped.headers["content-encoding"] == "gzip"
        decoded = json.loads(gzip.decompress(zipped_bytes))
        assert decoded == json.loads(plain_bytes)
        assert [p["partner_id"] for p in decoded["items"]] == [f"comune-{i:02d}" for i in range(40)]
        assert decoded["next_cursor"] is None
