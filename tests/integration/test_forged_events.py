"""Forged events on an internal topic (issue 20): a client that can produce to
`regia.funding.v1` (an institution, a leaked broker credential) writes well-formed funding
envelopes there. The objectives consumer dead-letters each one, applies nothing of it and
goes on to the real event behind it; a forged dead letter is never replayed."""

import re

import pytest
from aiokafka import AIOKafkaProducer

from regia_objectives.app import create_app
from regia_shared.contracts import topics
from regia_shared.messaging import signing
from regia_shared.messaging.kafka import ensure_topics

from ..support.funding import line_event
from ..support.infra import Database
from ..support.kafka import publish, read_records
from ..support.services import ADMIN_HEADERS, EVENT_KEYS, in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")
NEED = 1_000_000_00
KEY = b"miglio-blu"


async def committed(service) -> int | None:  # type: ignore[no-untyped-def]
    async with service.client() as client:
        body = (await client.get("/v1/objectives/miglio-blu")).json()
    return next((y["committed_cents"] for y in body["years"] if y["fiscal_year"] == 2027), None)


async def test_forged_funding_events_are_dead_lettered_and_nothing_of_them_applied(broker, database: Database) -> None:  # type: ignore[no-untyped-def]
    bs = broker.bootstrap_servers
    async with in_process("objectives", create_app) as objectives:
        async with objectives.client(headers=ADMIN_HEADERS) as admin:
            r = await admin.post(
                "/v1/objectives",
                json={
                    "objective_id": "miglio-blu",
                    "title": "Il Miglio Blu",
                    "at_risk_threshold_pct": 80,
                    "needs": [{"fiscal_year": 2027, "need_cents": NEED}],
                },
            )
            assert r.status_code == 201, r.text
        # Funding's real commitment, signed by funding (the test stands in for its relay).
        await publish(bs, topics.FUNDING, [line_event("commit", "LIG-1", "miglio-blu", 400_000_00, 1)])
        await eventually(lambda: _is(committed(objectives), 400_000_00), what="the real commitment applied")

        # Three forgeries raising the line to the whole need, at a version far beyond any
        # real one: applied, each would win over the real revision that follows them.
        forged = [line_event("revise", "LIG-1", "miglio-blu", NEED, 10 + i) for i in range(3)]
        values = [e.to_json() for e in forged]
        by_objectives = EVENT_KEYS.sign("objectives", topics.FUNDING, KEY, values[1])
        moved = EVENT_KEYS.sign("funding", topics.FUNDING, b"another-objective", values[2])  # funding's, other key
        real = line_event("revise", "LIG-1", "miglio-blu", 500_000_00, 2)
        real_value = real.to_json()
        await ensure_topics(bs, [topics.FUNDING], 3)
        producer = AIOKafkaProducer(bootstrap_servers=bs, enable_idempotence=False, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topics.FUNDING, values[0], key=KEY, headers=[("type", b"FundingRevised")])
            await producer.send_and_wait(
                topics.FUNDING, values[1], key=KEY, headers=[(signing.HEADER, by_objectives.encode())]
            )
            await producer.send_and_wait(topics.FUNDING, values[2], key=KEY, headers=[(signing.HEADER, moved.encode())])
            # The real revision, behind them on the same partition.
            real_signature = EVENT_KEYS.sign("funding", topics.FUNDING, KEY, real_value)
            await producer.send_and_wait(
                topics.FUNDING, real_value, key=KEY, headers=[(signing.HEADER, real_signature.encode())]
            )
        finally:
            await producer.stop()

        # The real revision is applied, so the three before it on its partition were handled.
        await eventually(lambda: _is(committed(objectives), 500_000_00), what="the real revision applied")
        version = await database.fetchval(
            "objectives", "SELECT line_version FROM line_allocations WHERE line_id = 'LIG-1'"
        )
        assert version == 2  # no forged version 10-12 was ever kept
        # Every version objectives applied has its history row: the real ones, no forged one.
        applied = {
            r["line_version"]
            for r in await database.fetch(
                "objectives", "SELECT line_version FROM allocation_changes WHERE line_id = 'LIG-1'"
            )
        }
        assert applied == {1, real.payload["line_version"]}
        assert applied.isdisjoint({e.payload["line_version"] for e in forged})

        rows = await database.fetch("objectives", "SELECT id, consumer, error, value FROM dead_letters ORDER BY id")
        assert [(r["consumer"], bytes(r["value"])) for r in rows] == [("objectives.funding", v) for v in values]
        assert rows[0]["error"] == "forged: not signed by funding (no regia-signature header)"
        assert rows[1]["error"] == (
            "forged: not signed by funding (key 'objectives-test-1' is not one of funding's keys but objectives's)"
        )
        assert rows[2]["error"].startswith("forged: not signed by funding (the signature does not match")
        dead = await read_records(bs, topics.dead_letter("objectives.funding"), expect=3)
        assert [r.value for r in dead] == values

        async with objectives.client() as client:
            metrics = (await client.get("/metrics")).text
        for reason in ("unsigned", "unknown_key", "mismatch"):
            line = re.search(
                rf'^regia_events_forged_total\{{[^}}]*consumer="objectives\.funding"[^}}]*reason="{reason}"[^}}]*\}} (\S+)$',
                metrics,
                re.M,
            )
            assert line is not None and float(line.group(1)) == 1.0, reason
        assert "objectives-secret" not in metrics

        # A forged dead letter is never signed and replayed: Regia does not vouch for it.
        async with objectives.client(headers=ADMIN_HEADERS) as admin:
            replay = (await admin.post("/v1/ops/dead-letters/replay", json={"all": True})).json()
        assert replay["replayed"] == [] and replay["forged"] == [r["id"] for r in rows]
        assert await committed(objectives) == 500_000_00


async def _is(value, expected: int) -> bool:  # type: ignore[no-untyped-def]
    return (await value) == expected
