"""Poison on every topic: a record that is not an envelope, and an event of a version its
consumer does not read, land in EACH consumer of that topic's dead letters (the
`dead_letters` table, listed by GET /v1/ops/dead-letters, and regia.dlq.<consumer>.v1, with
the error), and do not stop the partition: valid events published after them on the same
partition (the same key) are applied, and the money they carry is counted exactly.

(regia.funding.inbound.v1 is not an event topic: its refusals go to
regia.funding.inbound.rejected.v1 with the reason; tests/integration/test_funding_inbound.py
covers it.)
"""

import time
from pathlib import Path

import httpx
import pytest

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.partners import ObjectiveLeadAssigned
from regia_shared.contracts.levels import GovernmentLevel

from ..integration.test_notifier import status_changed
from ..support import faults, kafka
from ..support.figures import record
from ..support.funding import line_event
from ..support.infra import Database
from ..support.partners import institution_registered, objective_defined
from ..support.services import ADMIN_HEADERS
from ..support.system import running_system
from ..support.wait import eventually

pytestmark = pytest.mark.e2e
OBJECTIVE, NEED, COMMITTED = "obj-poison", 1_000_000_00, 250_000_00
MALFORMED = b'{"event_id": "not even an envelope"'


def unknown_version(envelope: Envelope) -> bytes:
    """The same event as a producer a release ahead would publish it: version 99."""
    return envelope.model_copy(update={"version": 99}).to_json()


def lead_assigned(objective: str, partner: str) -> Envelope:
    return Envelope.wrap(
        ObjectiveLeadAssigned(objective_id=objective, partner_id=partner), key=objective, producer="partners"
    )


async def test_poison_on_every_topic_is_dead_lettered_per_consumer_and_the_partition_goes_on(  # type: ignore[no-untyped-def]
    service_env, database: Database, broker, tmp_path: Path
) -> None:
    began = time.monotonic()
    bootstrap = broker.bootstrap_servers
    partner = institution_registered("regione-liguria", "Regione Liguria", GovernmentLevel.REGIONE)
    lead = lead_assigned(OBJECTIVE, "regione-liguria")
    defined = objective_defined("obj-elsewhere")
    status = status_changed("obj-elsewhere")
    committed = line_event("commit", "POI-1", OBJECTIVE, COMMITTED, 1, delta=COMMITTED)
    revoked = line_event("revoke", "POI-2", OBJECTIVE, 0, 1)
    # Per topic, in order on ONE partition: the poison, then the valid events.
    streams = {
        topics.PARTNERS: [
            MALFORMED,
            unknown_version(partner),
            unknown_version(lead),
            partner.to_json(),
            lead.to_json(),
        ],
        topics.OBJECTIVES: [MALFORMED, unknown_version(defined), defined.to_json()],
        topics.OBJECTIVES_COVERAGE: [MALFORMED, unknown_version(status), status.to_json()],
        topics.FUNDING: [
            MALFORMED,
            unknown_version(committed),
            unknown_version(revoked),
            committed.to_json(),
            revoked.to_json(),
        ],
    }
    poison = sum(len(s) for s in streams.values()) - len([partner, lead, defined, status, committed, revoked])
    # Consumer -> (the poison it must set aside, by error, and the valid events it applies).
    expected = {
        "funding.partners": (["invalid envelope", "PartnerRegistered version 99"], [partner]),
        # Objectives keeps who is registered too (a plan file may name only them: issue 19).
        "objectives.partners": (
            ["invalid envelope", "PartnerRegistered version 99", "ObjectiveLeadAssigned version 99"],
            [partner, lead],
        ),
        # Partners reads a plan file's leads and roles from objectives, and nothing else there.
        "partners.plans": (["invalid envelope"], []),
        # ... and which objectives exist, so that a lead or role names one (issue 20).
        "partners.objectives": (["invalid envelope", "ObjectiveDefined version 99"], [defined]),
        "notifier.partners": (
            ["invalid envelope", "PartnerRegistered version 99", "ObjectiveLeadAssigned version 99"],
            [partner, lead],
        ),
        "funding.objectives": (["invalid envelope", "ObjectiveDefined version 99"], [defined]),
        "notifier.objectives": (["invalid envelope", "ObjectiveDefined version 99"], [defined]),
        "notifier.coverage": (["invalid envelope", "ObjectiveStatusChanged version 99"], [status]),
        "objectives.funding": (
            ["invalid envelope", "FundingCommitted version 99", "FundingRevoked version 99"],
            [committed, revoked],
        ),
        # Every funding event is a cause the notifier records, not only a revocation.
        "notifier.funding": (
            ["invalid envelope", "FundingCommitted version 99", "FundingRevoked version 99"],
            [committed, revoked],
        ),
    }
    with running_system(service_env, tmp_path) as system:
        services = {name: system.start(name) for name in ("partners", "funding", "objectives", "notifier")}
        async with httpx.AsyncClient(headers=ADMIN_HEADERS, timeout=10) as admin:
            r = await admin.post(
                f"{services['objectives'].url}/v1/objectives",
                json={
                    "objective_id": OBJECTIVE,
                    "title": "Poison",
                    "needs": [{"fiscal_year": 2027, "need_cents": NEED}],
                },
            )
            assert r.status_code == 201, r.text
            for topic, stream in streams.items():
                await kafka.publish_raw(
                    bootstrap, topic, [(value, []) for value in stream], key=f"poison-{topic}".encode()
                )

            for consumer, (errors, applied) in expected.items():
                service = services[consumer.split(".")[0]]

                async def dead_letters(
                    consumer: str = consumer, url: str = service.url, errors: list[str] = errors
                ) -> list[dict] | None:
                    r = await admin.get(f"{url}/v1/ops/dead-letters", params={"consumer": consumer})
                    assert r.status_code == 200, r.text
                    rows = r.json()["items"]
                    return rows if len(rows) >= len(errors) else None

                rows = await eventually(dead_letters, timeout=60, what=f"{consumer}'s dead letters")
                assert len(rows) == len(errors), (consumer, rows)
                for row, error in zip(rows, errors, strict=True):
                    assert error in row["error"], (consumer, row)
                    assert row["replayed_at"] is None and row["key"].startswith("poison-")
                # The dead-letter topic has the same records, each with its error.
                dlq = await kafka.read_records(bootstrap, topics.dead_letter(consumer), expect=len(errors))
                assert len(dlq) == len(errors), consumer
                for message, row in zip(
                    sorted(dlq, key=lambda m: int(dict(m.headers)["source-offset"])), rows, strict=True
                ):
                    headers = {k: v.decode() for k, v in message.headers}
                    assert headers["error"] == row["error"][:1000] and headers["source-topic"] == row["topic"]
                    assert message.value.decode() == row["value"]
                # The valid events after the poison, on the same partition, were applied.
                for event in applied:

                    async def in_inbox(consumer: str = consumer, event: Envelope = event) -> bool:
                        sql, args = faults.applied_query(consumer, event)
                        return await database.fetchval(consumer.split(".")[0], sql, *args) == 1

                    await eventually(in_inbox, timeout=30, what=f"{consumer} applying {event.type} after the poison")

            # The money after the poison is counted exactly: the valid commitment, once.
            body = (await admin.get(f"{services['objectives'].url}/v1/objectives/{OBJECTIVE}")).json()
            assert body["years"][0]["committed_cents"] == COMMITTED, body
            institutions = (await admin.get(f"{services['funding'].url}/v1/institutions")).json()
            assert [i["institution_id"] for i in institutions] == ["regione-liguria"]
            # A replay is its consumer's alone, applied in its service: replayed unfixed,
            # notifier's funding poison is still poison and stays pending, nothing is set
            # aside anew, and objectives, on the same topic, sees nothing of it.
            r = await admin.post(
                f"{services['notifier'].url}/v1/ops/dead-letters/replay",
                json={"all": True, "consumer": "notifier.funding"},
            )
            assert r.status_code == 200, r.text
            assert r.json()["replayed"] == [] and len(r.json()["still_poison"]) == 3, r.text
            for schema, consumer in (("notifier", "notifier.funding"), ("objectives", "objectives.funding")):
                rows = await database.fetch(
                    schema, "SELECT replayed_at FROM dead_letters WHERE consumer = $1", consumer
                )
                assert len(rows) == 3 and all(r["replayed_at"] is None for r in rows), (consumer, rows)

            # Every service has the routes, behind the admin token; partners set aside only
            # what its two consumers of the one topic it reads could not read.
            r = await admin.get(f"{services['partners'].url}/v1/ops/dead-letters")
            assert r.status_code == 200, r.text
            set_aside = r.json()["items"]
            assert sorted((d["consumer"], d["topic"]) for d in set_aside) == [
                ("partners.objectives", topics.OBJECTIVES),
                ("partners.objectives", topics.OBJECTIVES),
                ("partners.plans", topics.OBJECTIVES),
            ]
            r = await admin.post(f"{services['partners'].url}/v1/ops/dead-letters/replay", json={"all": True})
            assert r.status_code == 200 and r.json()["replayed"] == [], r.text
            assert sorted(p["id"] for p in r.json()["still_poison"]) == sorted(d["id"] for d in set_aside), r.text
            for service in services.values():
                r = await admin.get(f"{service.url}/v1/ops/dead-letters", headers={"Authorization": "Bearer nope"})
                assert r.status_code == 401, (service.name, r.text)

    record(
        "poison on every topic, every consumer", inputs=poison, euros_lost=0, seconds=round(time.monotonic() - began, 1)
    )
