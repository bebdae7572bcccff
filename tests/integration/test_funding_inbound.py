"""The Kafka way in: institutions publish funding events on `regia.funding.inbound.v1`;
they pass the same checks as HTTP, a redelivery changes nothing, and refusals go to the
rejection topic with the reason and the original message (never the key), and are kept
for each institution to read its own over the API (GET /v1/inbound/rejections)."""

import json

import pytest

from regia_shared.contracts import topics
from regia_shared.messaging import signing

from ..support import kafka
from ..support.funding_api import commitment, counts, issue_key
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, EVENT_KEYS
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


def key_id(key: dict[str, str]) -> str:
    return key["Authorization"].removeprefix("Bearer rgk_").partition(".")[0]


async def test_each_institution_reads_only_its_own_rejections(funding, broker) -> None:  # type: ignore[no-untyped-def]
    liguria = await issue_key(funding, "regione-liguria")
    spezia = await issue_key(funding, "comune-spezia")
    forged = {"Authorization": f"Bearer rgk_{key_id(liguria)}.not-the-secret"}  # a real id, a wrong secret
    sent = [
        message(commitment("R1"), liguria, None),  # Liguria's: no idempotency key
        message(b"{not json", liguria, "r2"),  # Liguria's: not JSON
        message(commitment("R4"), forged, "r4"),  # nobody's: the key did not verify
        message(commitment("R5"), None, "r5"),  # nobody's: no key at all
    ]
    await kafka.publish_raw(broker.bootstrap_servers, topics.FUNDING_INBOUND, sent, key=b"R")
    # Spezia's goes in once the four above are kept, so that it is the newest whatever batches
    # the consumer happened to read: within one batch the rules' refusals are kept after what
    # was not even a request, across batches in the batches' order.
    assert len(await kafka.read_records(broker.bootstrap_servers, topics.FUNDING_INBOUND_REJECTED, expect=4)) == 4
    no_such_line = message({"type": "revision", "line_id": "R9", "committed_cents": 1}, spezia, "r3")
    await kafka.publish_raw(broker.bootstrap_servers, topics.FUNDING_INBOUND, [no_such_line], key=b"R")
    # Still published for the operators, signed as funding's like everything funding publishes.
    published = await kafka.read_records(broker.bootstrap_servers, topics.FUNDING_INBOUND_REJECTED, expect=5)
    assert len(published) == 5
    for r in published:
        assert EVENT_KEYS.verify(r.topic, r.key, r.value, signing.record_signature(r.headers)) is None

    async with funding.client(headers=ADMIN_HEADERS) as admin:
        everything = (await admin.get("/v1/inbound/rejections")).json()
        # The newest first.
        assert [(i["institution_id"], i["error"]) for i in everything["items"]] == [
            ("comune-spezia", "line_not_found"),
            (None, "unauthorized"),
            (None, "unauthorized"),
            ("regione-liguria", "validation_failed"),
            ("regione-liguria", "missing_idempotency_key"),
        ]
        # The claimed key's id is kept for the administrators, never a secret.
        assert [i["key_id"] for i in everything["items"]] == [
            key_id(spezia),
            None,
            key_id(liguria),
            key_id(liguria),
            key_id(liguria),
        ]
        assert "not-the-secret" not in json.dumps(everything)
        assert all("authorization" not in (h.lower() for h in i["original"]["headers"]) for i in everything["items"])
        assert everything["items"][3]["original"]["value"] == "{not json"
        only_spezia = (await admin.get("/v1/inbound/rejections", params={"institution_id": "comune-spezia"})).json()
        assert [i["error"] for i in only_spezia["items"]] == ["line_not_found"]
        first = (await admin.get("/v1/inbound/rejections", params={"limit": 2})).json()
        rest = (await admin.get("/v1/inbound/rejections", params={"limit": 2, "cursor": first["next_cursor"]})).json()
        assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in everything["items"][:4]]

    async with funding.client(headers=liguria) as c:
        own = (await c.get("/v1/inbound/rejections")).json()
        assert [(i["institution_id"], i["error"]) for i in own["items"]] == [
            ("regione-liguria", "validation_failed"),
            ("regione-liguria", "missing_idempotency_key"),
        ]
        assert (await c.get("/v1/inbound/rejections", params={"institution_id": "comune-spezia"})).status_code == 403
    async with funding.client(headers=spezia) as c:
        assert [i["error"] for i in (await c.get("/v1/inbound/rejections")).json()["items"]] == ["line_not_found"]
        assert (await c.get("/v1/inbound/rejections", params={"institution_id": "regione-liguria"})).status_code == 403
    async with funding.client(headers=forged) as c:
        assert (await c.get("/v1/inbound/rejections")).status_code == 401
    async with funding.client() as c:
        assert (await c.get("/v1/inbound/rejections")).status_code == 401
