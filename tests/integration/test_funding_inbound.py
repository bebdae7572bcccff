"""The Kafka way in: institutions publish funding events on `regia.funding.inbound.v1`;
they pass the same checks as HTTP, a redelivery changes nothing, and refusals go to the
rejection topic with the reason and the original message (never the key)."""

import json

import pytest

from regia_shared.contracts import topics

from ..support import kafka
from ..support.funding_api import commitment, counts, issue_key
from ..support.infra import Database
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")


def message(body: dict | bytes, key: dict[str, str] | None, idempotency: str | None) -> tuple[bytes, list]:
    headers = []
    if key is not None:
        headers.append(("authorization", key["Authorization"].encode()))
        # Every change of money says why (issue 20): the command's reason, or this header.
        headers.append(("x-regia-reason", b"Prova automatica: verifica di integrazione"))
    if idempotency is not None:
        headers.append(("idempotency-key", idempotency.encode()))
    return (body if isinstance(body, bytes) else json.dumps(body).encode()), headers


async def test_inbound_events_are_recorded_once_and_refusals_are_rejected_with_reasons(
    funding, database: Database, broker
) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    other = await issue_key(funding, "comune-spezia")
    good = message(commitment("K1"), key, "k1")
    sent = [
        good,
        good,  # the same message twice: recorded once
        message({"type": "revision", "line_id": "K1", "committed_cents": 50_000_00}, key, "k2"),
        message(commitment("K2"), None, "k3"),  # no key
        message(commitment("K3"), key, None),  # no idempotency key
        message(b"{not json", key, "k5"),  # not JSON
        message({**commitment("K4"), "committed_cents": 1.5}, key, "k6"),  # fractional cents
        message({"type": "revision", "line_id": "K1", "committed_cents": 1}, other, "k7"),  # not theirs
    ]
    await kafka.publish_raw(broker.bootstrap_servers, topics.FUNDING_INBOUND, sent, key=b"K1")

    rejections = await kafka.read_records(broker.bootstrap_servers, topics.FUNDING_INBOUND_REJECTED, expect=5)
    reasons = [json.loads(r.value) for r in rejections]
    assert [(r["error"], r["field"]) for r in reasons] == [
        ("unauthorized", "authorization"),
        ("missing_idempotency_key", "idempotency-key"),
        ("validation_failed", "body"),
        ("validation_failed", "committed_cents"),
        ("forbidden", "line_id"),
    ]
    assert all("authorization" not in r["original"]["headers"] for r in reasons)
    assert reasons[3]["original"]["value"] == json.dumps({**commitment("K4"), "committed_cents": 1.5})

    async def recorded() -> tuple | None:
        got = await counts(database)
        return got if got == (1, 2, 2) else None

    await eventually(recorded, what="the commitment and the revision recorded once each")
    async with funding.client(headers=key) as c:
        line = (await c.get("/v1/funding-lines/K1")).json()
    assert line["committed_cents"] == 50_000_00 and line["history"][0]["channel"] == "kafka"
