"""`POST /v1/funding-events` has a fast path (regia_shared.http.fast_path): a plainly valid
request is answered without FastAPI's dependency solving, and every other one goes on to the
FastAPI route, which answers it as it always has. Against the real funding service, its
PostgreSQL and broker: the fast path's answers are the route's, every refusal is the
route's own, and a request it declines leaves nothing behind."""

import re
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from ..support.funding_api import commitment, counts, issue_key
from ..support.infra import Database
from ..support.services import RunningService

pytestmark = pytest.mark.usefixtures("service_env")


async def outcomes(funding: RunningService) -> dict[str, float]:
    """The fast path's counts, from the service's /metrics."""
    async with funding.client() as client:
        text = (await client.get("/metrics")).text
    found = {"answered": 0.0, "declined": 0.0}
    for outcome, value in re.findall(
        r'^regia_http_fast_path_requests_total\{outcome="(\w+)",route="/v1/funding-events"\} (\S+)$', text, re.M
    ):
        found[outcome] = float(value)
    return found


async def audit_rows(database: Database, correlation_id: str) -> list[dict[str, Any]]:
    rows = await database.fetch(
        "funding",
        "SELECT actor, channel, reason, status, method, route, path, subject, effect::text AS effect"
        " FROM audit_log WHERE correlation_id = $1 ORDER BY id",
        correlation_id,
    )
    return [dict(r) for r in rows]


async def test_a_plain_event_is_answered_by_the_fast_path_as_the_route_answers_it(funding, database) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    key_id = key["Authorization"].removeprefix("Bearer rgk_").split(".")[0]
    async with funding.client(headers=key) as client:
        fast = await client.post(
            "/v1/funding-events",
            json=commitment(),
            headers={"Idempotency-Key": "fast-1", "X-Correlation-Id": "corr-fast-1"},
        )
        assert fast.status_code == 202, fast.text
        assert await outcomes(funding) == {"answered": 1, "declined": 0}
        # An If-Match is the route's to read: declined, and answered by the FastAPI route.
        routed = await client.post(
            "/v1/funding-events",
            json={"type": "revision", "line_id": "LIG-2027-1", "committed_cents": 40_000_00, "reason": "DGR 2/2026"},
            headers={"Idempotency-Key": "routed-1", "X-Correlation-Id": "corr-routed-1", "If-Match": '"1"'},
        )
        assert routed.status_code == 202, routed.text
        assert await outcomes(funding) == {"answered": 1, "declined": 1}
        replayed = await client.post(
            "/v1/funding-events",
            json=commitment(),
            headers={"Idempotency-Key": "fast-1", "X-Correlation-Id": "corr-fast-1"},
        )
        assert await outcomes(funding) == {"answered": 2, "declined": 1}

    # The two answers have the same shape: the same fields, the same headers.
    assert fast.json().keys() == routed.json().keys()
    assert fast.json()["line_version"] == 1 and routed.json()["line_version"] == 2
    for answer, correlation_id in ((fast, "corr-fast-1"), (routed, "corr-routed-1")):
        assert answer.headers["Location"] == "/v1/funding-lines/LIG-2027-1"
        assert answer.headers["X-Correlation-Id"] == correlation_id
        assert answer.headers["Content-Type"] == "application/json"
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-Id"])
        assert "Idempotent-Replayed" not in answer.headers
    assert replayed.status_code == 202 and replayed.json() == fast.json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert await counts(database) == (1, 2, 2)

    # Each is audited alike: the key, the channel, the reason (the X-Regia-Reason that
    # issue_key's headers carry), and the route's template and status, which the fast path
    # takes from the FastAPI route; the replay has a row of its own.
    fast_rows, routed_rows = await audit_rows(database, "corr-fast-1"), await audit_rows(database, "corr-routed-1")
    assert len(fast_rows) == 2 and len(routed_rows) == 1
    for row in [*fast_rows, *routed_rows]:
        assert row["actor"] == f"key:{key_id}" and row["channel"] == "http" and row["status"] == 202
        assert row["method"] == "POST" and row["route"] == row["path"] == "/v1/funding-events"
        assert row["reason"] == unquote(key["X-Regia-Reason"])
    assert fast_rows[0].keys() == routed_rows[0].keys()
    assert fast_rows[0]["effect"] is not None and routed_rows[0]["effect"] is not None


REFUSED: list[tuple[str, dict[str, str], Any, int, str | None]] = [
    ("no Idempotency-Key", {}, commitment(), 422, "header.Idempotency-Key"),
    ("an Idempotency-Key with a space", {"Idempotency-Key": "a b"}, commitment(), 422, "header.Idempotency-Key"),
    ("an Idempotency-Key too long", {"Idempotency-Key": "k" * 201}, commitment(), 422, "header.Idempotency-Key"),
    ("a bad X-Correlation-Id", {"Idempotency-Key": "c", "X-Correlation-Id": "a b"}, commitment(), 422, None),
    ("a reason header too short", {"Idempotency-Key": "r", "X-Regia-Reason": "x"}, commitment(), 422, None),
    ("a command that is not one", {"Idempotency-Key": "b"}, {"type": "gift", "line_id": "X"}, 422, None),
    ("a negative amount", {"Idempotency-Key": "n"}, commitment(amount=-5), 422, None),
    (
        "a key that does not exist",
        {"Idempotency-Key": "u", "Authorization": "Bearer rgk_nope.secret"},
        commitment(),
        401,
        None,
    ),
    ("no credential at all", {"Idempotency-Key": "v", "Authorization": ""}, commitment(), 401, None),
]


@pytest.mark.parametrize(("label", "headers", "body", "status", "field"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_what_the_route_would_refuse_is_left_to_the_route(  # type: ignore[no-untyped-def]
    funding, database, label: str, headers: dict[str, str], body: Any, status: int, field: str | None
) -> None:
    key = await issue_key(funding, "regione-liguria")
    before = await counts(database)
    async with funding.client(headers=key) as client:
        answer = await client.post("/v1/funding-events", json=body, headers=headers)
    assert answer.status_code == status, answer.text
    if field is not None:
        assert answer.json()["field"] == field
    if status == 401:
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert await outcomes(funding) == {"answered": 0, "declined": 1}
    assert await counts(database) == before


async def test_a_body_that_is_not_plain_json_or_a_query_string_goes_to_the_route(funding, database) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    body = httpx.Request("POST", "http://x", json=commitment()).content
    async with funding.client(headers=key) as client:
        text = await client.post(
            "/v1/funding-events", content=body, headers={"Idempotency-Key": "t", "Content-Type": "text/plain"}
        )
        asked = await client.post("/v1/funding-events?dry_run=1", json=commitment(), headers={"Idempotency-Key": "q"})
        # A `+json` type is JSON to the route, and the fast path leaves it to the route.
        vendor = await client.post(
            "/v1/funding-events",
            content=body,
            headers={"Idempotency-Key": "j", "Content-Type": "application/vnd.regia+json"},
        )
    assert text.status_code == 415 and text.json()["error"] == "unsupported_media_type", text.text
    assert asked.status_code == 422 and asked.json()["field"] == "dry_run"
    assert vendor.status_code == 202, vendor.text
    # The query string never reaches the fast path; the two bodies are declined by it.
    assert await outcomes(funding) == {"answered": 0, "declined": 2}
    assert (await counts(database))[0] == 1


async def test_a_change_without_a_reason_is_refused_and_writes_nothing(funding, database) -> None:  # type: ignore[no-untyped-def]
    """No reason in the command nor in a header: the fast path reaches the use case, whose
    refusal is the route's own."""
    key = {k: v for k, v in (await issue_key(funding, "regione-liguria")).items() if k != "X-Regia-Reason"}
    before = await counts(database)
    async with funding.client(headers=key) as client:
        answer = await client.post(
            "/v1/funding-events", json=commitment(reason=None), headers={"Idempotency-Key": "no-reason"}
        )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "reason_required" and answer.json()["field"] == "X-Regia-Reason"
    assert await counts(database) == before
    assert await outcomes(funding) == {"answered": 1, "declined": 0}
