"""Hostile events on a real topic: an event PostgreSQL could not store (NUL in a text field)
is set aside as a dead letter, and the events behind it on the same partition are applied.
Before, the consumer decoded it, failed in SQL, rewound and retried it forever: the
partition stayed blocked."""

import json

import pytest

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.partners import ContactAdded, ObjectiveLeadAssigned, PartnerKind, PartnerRegistered
from regia_shared.contracts.levels import GovernmentLevel

from ..support import kafka
from ..support.figures import record
from ..support.funding_api import commitment, counts
from ..support.services import ADMIN_HEADERS
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")


def poisoned(envelope: Envelope, where: str, field: str, text: str) -> bytes:
    raw = json.loads(envelope.to_json())
    (raw if where == "envelope" else raw["payload"])[field] = text
    return json.dumps(raw).encode()  # \u0000 travels as a JSON escape, as any producer would send it


async def test_unstorable_text_in_an_event_is_dead_lettered_and_the_partition_moves_on(  # type: ignore[no-untyped-def]
    broker, notifier, database
) -> None:
    def env(payload, key: str) -> Envelope:  # type: ignore[no-untyped-def]
        return Envelope.wrap(payload, key=key, producer="partners")

    partner = env(
        PartnerRegistered(
            partner_id="lig", name="Regione Liguria", kind=PartnerKind.INSTITUTION, level=GovernmentLevel.REGIONE
        ),
        "lig",
    )
    bad_contact = env(
        ContactAdded(partner_id="lig", contact_id="bad", name="Mallory", email="mallory@regione.liguria.it"), "lig"
    )
    bad_correlation = env(
        ContactAdded(partner_id="lig", contact_id="bad2", name="Trudy", email="trudy@regione.liguria.it"), "lig"
    )
    good = env(
        ContactAdded(partner_id="lig", contact_id="rossi", name="Maria Rossi", email="maria.rossi@regione.liguria.it"),
        "lig",
    )
    lead = env(ObjectiveLeadAssigned(objective_id="miglio-blu", partner_id="lig"), "miglio-blu")
    poison = [
        poisoned(bad_contact, "payload", "name", "Mal\x00lory"),
        poisoned(bad_correlation, "envelope", "correlation_id", "c\x00"),
    ]
    # All on one partition (key "lig"), the poison first.
    await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, [partner])
    await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, poison, key=b"lig")
    await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, [good, lead])

    async with notifier.client(headers=ADMIN_HEADERS) as admin:

        async def projected() -> list[str] | None:
            r = await admin.get("/v1/objectives/miglio-blu/recipients")
            ids = [c["contact_id"] for c in r.json()["contacts"]] if r.status_code == 200 else []
            return ids or None

        contacts = await eventually(projected, timeout=30, what="the good contact behind the poison")
    assert contacts == ["rossi"]
    dead = await database.fetch("notifier", 'SELECT error FROM dead_letters ORDER BY "offset"')
    assert len(dead) == 2 and all("NUL" in d["error"] for d in dead), [d["error"] for d in dead]
    record("hostile events: unstorable text dead-lettered", inputs=2, faults=0, alerts_duplicated=0)


async def test_unstorable_text_on_the_funding_inbound_topic_is_rejected_and_the_partition_moves_on(  # type: ignore[no-untyped-def]
    broker, funding, institution, database
) -> None:
    """The Kafka way in for institutions: a command with NUL in its reason, or a NUL in its
    correlation-id header, is rejected (it reaches no SQL); the command behind it is applied."""
    key = institution["Authorization"].encode()

    def message(
        line_id: str, idempotency_key: str, *, reason: str = "DGR 1/2026", correlation: bytes = b"c-1"
    ) -> tuple[bytes, list[tuple[str, bytes]]]:
        return (
            json.dumps(commitment(line_id=line_id, reason=reason)).encode(),
            [
                ("authorization", key),
                ("idempotency-key", idempotency_key.encode()),
                ("correlation-id", correlation),
                ("x-regia-reason", b"Prova ostile: messaggio dell'ente"),
            ],
        )

    await kafka.publish_raw(
        broker.bootstrap_servers,
        topics.FUNDING_INBOUND,
        [
            message("LIG-BAD", "k-bad", reason="DGR\x00 1"),
            message("LIG-CID", "k-cid", correlation=b"c\x00d"),
            message("LIG-GOOD", "k-good"),
        ],
        key=b"regione-liguria",
    )
    async with funding.client(headers=institution) as client:

        async def applied() -> bool:
            return (await client.get("/v1/funding-lines/LIG-GOOD")).status_code == 200

        await eventually(applied, timeout=30, what="the command behind the poison applied")
        assert (await client.get("/v1/funding-lines/LIG-BAD")).status_code == 404
    rejected = await kafka.read_records(broker.bootstrap_servers, topics.FUNDING_INBOUND_REJECTED, expect=1)
    assert [json.loads(r.value)["field"] for r in rejected] == ["reason"]
    lines, entries, events = await counts(database)
    assert (lines, entries, events) == (2, 2, 2)  # LIG-CID with a fresh correlation id, and LIG-GOOD
    record("hostile events: unstorable text on the funding inbound topic", inputs=3, euros_lost=0)
