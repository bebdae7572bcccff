"""Issue 22: JSON read strictly. A body with a key written twice is refused naming the key
(it was read last-wins: `{"committed_cents": 1, "committed_cents": 900000000}` committed
the second amount, while a reviewer or a proxy that keeps the first saw the first), on every
service's HTTP API and on funding's Kafka way in; `fiscal_year` and `expected_version` are
taken only as JSON integers (pydantic's lax mode took "2027", 2027.0 and true); amounts in
cents were strict already and stay so. Every refusal writes nothing."""

import json

import pytest

from regia_shared.contracts import topics

from ..support import kafka
from ..support.figures import record
from ..support.funding_api import commitment, counts
from ..support.services import ADMIN_HEADERS
from ..support.wait import eventually
from .conftest import unchanged
from .test_hostile_http import raw_post, refused

pytestmark = pytest.mark.usefixtures("service_env")


def twice(body: dict, key: str, first: object) -> str:
    """The JSON of `body` with `key` written once more, before its own value."""
    text = json.dumps(body)
    head, brace = text[:-1], text[-1]
    return json.dumps({key: first})[:-1] + ", " + head[1:] + brace


async def test_a_key_written_twice_is_refused_naming_it_on_every_service(  # type: ignore[no-untyped-def]
    funding, institution, partners, objectives, notifier, database
) -> None:
    single = twice(commitment(amount=100), "committed_cents", 900_000_000_00)
    in_batch = json.dumps({"events": [commitment("B-1"), commitment("B-2")]}).replace(
        '"committed_cents": 10000000, "reason": "DGR 1/2026"}]',
        '"committed_cents": 10000000, "committed_cents": 1, "reason": "DGR 1/2026"}]',
    )
    assert in_batch.count("committed_cents") == 3
    top_level_batch = '{"events": [], "events": [' + json.dumps(commitment("B-3")) + "]}"
    probes = [
        (funding, {**institution, "Idempotency-Key": "dup-1"}, "/v1/funding-events", single, "committed_cents"),
        (
            funding,
            {**institution, "Idempotency-Key": "dup-2"},
            "/v1/funding-events/batch",
            in_batch,
            "events.1.committed_cents",
        ),
        (funding, {**institution, "Idempotency-Key": "dup-3"}, "/v1/funding-events/batch", top_level_batch, "events"),
        (
            partners,
            ADMIN_HEADERS,
            "/v1/partners",
            twice({"partner_id": "p-dup", "name": "Cantiere", "kind": "ENTERPRISE"}, "name", "Other"),
            "name",
        ),
        (
            objectives,
            ADMIN_HEADERS,
            "/v1/objectives",
            twice({"objective_id": "o-dup", "title": "Miglio Blu"}, "objective_id", "o-other"),
            "objective_id",
        ),
        (notifier, ADMIN_HEADERS, "/v1/ops/dead-letters/replay", '{"ids": [1], "ids": [2]}', "ids"),
    ]
    for service, headers, path, body, field in probes:
        async with service.client() as client, unchanged(database):
            error = refused(await client.post(path, **raw_post(headers, body)), 422)
        assert error["error"] == "validation_failed", error
        assert error["field"] == field, (path, error)
        assert "more than once" in error["message"] and field.rsplit(".", 1)[-1] in error["message"], error
    # The same bodies, each key once, are accepted: the refusal is about the repetition.
    async with funding.client(headers={**institution, "Idempotency-Key": "dup-ok"}) as client:
        assert (await client.post("/v1/funding-events", json=commitment(amount=100))).status_code == 202
    record("hostile http: duplicate JSON keys", inputs=len(probes), requests=len(probes) + 1, euros_lost=0)


LAX_INTEGERS = [
    ("fiscal_year", '"2027"'),
    ("fiscal_year", "2027.0"),
    ("fiscal_year", "true"),
    ("fiscal_year", '"2027.0"'),
    ("expected_version", '"0"'),
    ("expected_version", "0.0"),
    ("expected_version", "false"),
    ("committed_cents", '"10000"'),
    ("committed_cents", "10000.0"),
    ("committed_cents", "true"),
]


async def test_years_versions_and_amounts_are_taken_only_as_json_integers(funding, institution, database) -> None:  # type: ignore[no-untyped-def]
    headers = {**institution, "Idempotency-Key": "lax-1"}
    async with funding.client() as client, unchanged(database):
        for field, value in LAX_INTEGERS:
            body = json.dumps({**commitment(), field: 424242}).replace("424242", value)
            error = refused(await client.post("/v1/funding-events", **raw_post(headers, body)), 422)
            assert error["field"] == field, (field, value, error)
            assert "integer" in error["message"], error
            batch = json.dumps({"events": [{**commitment(), field: 424242}]}).replace("424242", value)
            error = refused(await client.post("/v1/funding-events/batch", **raw_post(headers, batch)), 422)
            assert error["field"] == f"events.0.{field}", (field, value, error)
    async with funding.client(headers=headers) as client:
        r = await client.post("/v1/funding-events", json={**commitment(), "expected_version": 0})
        assert r.status_code == 202, r.text  # JSON integers, of course, are taken
    record(
        "hostile http: integers only as JSON integers",
        inputs=len(LAX_INTEGERS),
        requests=2 * len(LAX_INTEGERS) + 1,
        euros_lost=0,
    )


async def test_a_key_written_twice_on_the_kafka_way_in_is_rejected_not_last_wins(  # type: ignore[no-untyped-def]
    funding, institution, broker, database
) -> None:
    def message(body: str, idempotency: str) -> tuple[bytes, list]:
        return body.encode(), [
            ("authorization", institution["Authorization"].encode()),
            ("idempotency-key", idempotency.encode()),
        ]

    sent = [
        message(twice(commitment("K-DUP", 100), "committed_cents", 900_000_000_00), "kd-1"),
        message(json.dumps({**commitment("K-YEAR"), "fiscal_year": "2027"}), "kd-2"),
        message(json.dumps(commitment("K-OK")), "kd-3"),
    ]
    await kafka.publish_raw(broker.bootstrap_servers, topics.FUNDING_INBOUND, sent, key=b"K")
    rejections = await kafka.read_records(broker.bootstrap_servers, topics.FUNDING_INBOUND_REJECTED, expect=2)
    reasons = [json.loads(r.value) for r in rejections]
    assert [(r["error"], r["field"]) for r in reasons] == [
        ("validation_failed", "committed_cents"),
        ("validation_failed", "fiscal_year"),
    ], reasons
    assert "more than once" in reasons[0]["message"], reasons[0]

    async def recorded() -> tuple | None:
        got = await counts(database)
        return got if got == (1, 1, 1) else None

    await eventually(recorded, what="only the well-formed message recorded")
    assert await database.fetchval("funding", "SELECT line_id FROM funding_lines") == "K-OK"
    record("hostile kafka: duplicate JSON keys and lax integers", inputs=2, euros_lost=0)
