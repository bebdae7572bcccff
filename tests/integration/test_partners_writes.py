"""Issue 20: the partners service's writes name what exists, partners and contacts can be
edited, and a person's contact erased on request, against a real PostgreSQL and broker:

- a lead or role on an objective the service has not heard defined is refused (404
  objective_not_found, naming the id and saying to retry) and writes nothing; once the
  objectives service's ObjectiveDefined has arrived, the same request is accepted;
- PATCH changes a partner's name or territory and a contact's name, address or language,
  publishing PartnerChanged and ContactChanged, which the notifier's copy follows;
- POST /v1/contacts/{id}/erasure replaces the person by a tombstone, and ContactErased makes
  the notifier erase its copy and the address and name in what it sent them: afterwards the
  address is in no text column of either schema, while the delivery rows are all still
  there; an erased contact is never edited back, nor alerted again."""

import pytest

from regia_notifier.app import create_app as notifier_app
from regia_partners.app import create_app as partners_app
from regia_shared.contracts import topics
from regia_shared.contracts.events.objectives import CoverageStatus

from ..integration.test_notifier import deliveries, settled, status_changed
from ..support import kafka
from ..support.infra import Database
from ..support.partners import objective_defined, objectives_known
from ..support.services import ADMIN_HEADERS, in_process
from ..support.smtp import SmtpCapture
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")

COMUNE = {"partner_id": "comune-spezia", "name": "Comune della Spezia", "kind": "INSTITUTION", "level": "COMUNE"}
CISL = {"partner_id": "cisl-spezia", "name": "CISL La Spezia", "kind": "TRADE_UNION"}
MARIA = "Maria.Rossi@comune.spezia.it"
ROSSI = {"contact_id": "rossi", "name": "Maria Rossi", "email": MARIA, "language": "it"}
BIANCHI = {"contact_id": "bianchi", "name": "Anna Bianchi", "email": "anna.bianchi@comune.spezia.it"}


@pytest.fixture
async def partners(service_env):  # type: ignore[no-untyped-def]
    async with in_process("partners", partners_app) as service, service.client(headers=ADMIN_HEADERS) as admin:
        for body in (COMUNE, CISL):
            assert (await admin.post("/v1/partners", json=body)).status_code == 201
        yield admin


async def written(database: Database) -> tuple[int, ...]:
    return tuple(
        [  # type: ignore[misc]
            await database.fetchval("partners", f"SELECT count(*) FROM {table}")
            for table in ("objective_leads", "objective_roles", "outbox")
        ]
    )


async def test_a_lead_or_role_on_an_unknown_objective_is_refused_until_it_is_defined(partners, database, broker):  # type: ignore[no-untyped-def]
    before = await written(database)
    r = await partners.put("/v1/objectives/nuovo-porto/lead", json={"partner_id": "comune-spezia"})
    assert r.status_code == 404, r.text
    body = r.json()
    assert (body["error"], body["field"]) == ("objective_not_found", "objective_id")
    assert "'nuovo-porto'" in body["message"] and "retry" in body["message"]
    r = await partners.put("/v1/objectives/nuovo-porto/roles/cisl-spezia", json={"role": "PARTNER"})
    assert (r.status_code, r.json()["error"]) == (404, "objective_not_found")
    assert (await partners.get("/v1/objectives/nuovo-porto")).status_code == 404
    assert await written(database) == before

    # The objectives service defines it (an action of a plan); the partners service learns it.
    defined = objective_defined("nuovo-porto", kind="ACTION")
    await kafka.publish_objectives(broker.bootstrap_servers, [defined])
    await objectives_known(partners, broker.bootstrap_servers, "nuovo-porto", announce=False)
    known = (await partners.get("/v1/objectives/nuovo-porto")).json()
    assert (known["objective_id"], known["kind"]) == ("nuovo-porto", "ACTION")
    r = await partners.put("/v1/objectives/nuovo-porto/lead", json={"partner_id": "comune-spezia"})
    assert r.status_code == 200 and r.json()["changed"], r.text
    r = await partners.put("/v1/objectives/nuovo-porto/roles/cisl-spezia", json={"role": "PARTNER"})
    assert r.status_code == 201, r.text


async def test_a_partner_is_edited_but_keeps_its_id_kind_and_level(partners, database, broker):  # type: ignore[no-untyped-def]
    r = await partners.patch(
        "/v1/partners/comune-spezia", json={"name": "Comune di La Spezia", "territory": "La Spezia"}
    )
    assert r.status_code == 200, r.text
    assert r.json() | {"event_id": None} == {
        **COMUNE,
        "name": "Comune di La Spezia",
        "territory": "La Spezia",
        "changed": True,
        "event_id": None,
    }
    outbox = await database.fetchval("partners", "SELECT count(*) FROM outbox")
    again = await partners.patch("/v1/partners/comune-spezia", json={"name": "Comune di La Spezia"})
    assert again.status_code == 200 and again.json()["changed"] is False and again.json()["event_id"] is None
    for body, field in (({"level": "REGIONE"}, "level"), ({"kind": "ENTERPRISE"}, "kind"), ({}, None)):
        r = await partners.patch("/v1/partners/comune-spezia", json=body)
        assert r.status_code == 422, r.text
        if field:
            assert r.json()["details"][0]["field"] == field, r.json()
    cleared = await partners.patch("/v1/partners/comune-spezia", json={"territory": None})
    assert cleared.status_code == 200 and cleared.json()["territory"] is None
    assert (await partners.patch("/v1/partners/nobody", json={"name": "X"})).status_code == 404
    assert await database.fetchval("partners", "SELECT count(*) FROM outbox") == outbox + 1

    published = await kafka.read_all(broker.bootstrap_servers, topics.PARTNERS, expect=4)
    changes = [e.payload for e in published if e.type == "PartnerChanged"]
    assert [(c["name"], c["territory"], c["level"]) for c in changes] == [
        ("Comune di La Spezia", "La Spezia", "COMUNE"),
        ("Comune di La Spezia", None, "COMUNE"),
    ]
    got = (await partners.get("/v1/partners/comune-spezia")).json()
    assert (got["name"], got["kind"], got["level"]) == ("Comune di La Spezia", "INSTITUTION", "COMUNE")


async def test_a_contact_is_edited_and_once_erased_is_a_tombstone_nothing_brings_back(partners, database):  # type: ignore[no-untyped-def]
    for contact in (ROSSI, BIANCHI):
        assert (await partners.post("/v1/partners/comune-spezia/contacts", json=contact)).status_code == 201
    r = await partners.patch("/v1/contacts/rossi", json={"email": "maria.rossi@comune.sp.it", "language": "en"})
    assert r.status_code == 200 and r.json()["changed"], r.text
    assert (r.json()["email"], r.json()["language"], r.json()["name"]) == (
        "maria.rossi@comune.sp.it",
        "en",
        "Maria Rossi",
    )
    taken = await partners.patch("/v1/contacts/rossi", json={"email": BIANCHI["email"].upper()})
    assert (taken.status_code, taken.json()["field"]) == (409, "email"), taken.text
    bad = await partners.patch("/v1/contacts/rossi", json={"email": "not an address"})
    assert bad.status_code == 422
    assert (await partners.patch("/v1/contacts/nobody", json={"name": "X"})).status_code == 404
    prefs = {"channels": ["email"], "cadence": "daily_digest"}
    assert (await partners.put("/v1/contacts/rossi/preferences", json=prefs)).status_code == 200

    erased = await partners.post("/v1/contacts/rossi/erasure")
    assert erased.status_code == 200 and erased.json()["changed"] and erased.json()["erased_at"], erased.text
    again = await partners.post("/v1/contacts/rossi/erasure")
    assert again.status_code == 200 and again.json()["changed"] is False
    listed = (await partners.get("/v1/partners/comune-spezia/contacts")).json()["items"]
    rossi = next(c for c in listed if c["contact_id"] == "rossi")
    assert (rossi["name"], rossi["email"]) == (None, None) and rossi["erased_at"]
    refused = await partners.patch("/v1/contacts/rossi", json={"name": "Maria Rossi"})
    assert (refused.status_code, refused.json()["error"]) == (410, "contact_erased")
    assert (await partners.put("/v1/contacts/rossi/preferences", json=prefs)).status_code == 410
    assert (await partners.get("/v1/contacts/rossi/preferences")).status_code == 404
    readded = await partners.post("/v1/partners/comune-spezia/contacts", json={**ROSSI, "email": "m@comune.sp.it"})
    assert (readded.status_code, readded.json()["error"]) == (410, "contact_erased")
    # The person is nowhere in the schema now, in any case, in any table (the outbox too).
    for address in (MARIA, "maria.rossi@comune.sp.it", "Maria Rossi"):
        assert await text_holding(database, "partners", address) == [], address
    # Bianchi, not erased, is untouched.
    assert await text_holding(database, "partners", BIANCHI["email"])


async def text_holding(database: Database, schema: str, needle: str) -> list[str]:
    """`table.column` of every text column in `schema` where some row holds `needle`,
    compared case-insensitively."""
    columns = await database.fetch(
        schema,
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = $1 AND data_type IN ('text', 'character varying', 'jsonb', 'ARRAY')",
        schema,
    )
    found = []
    for c in columns:
        table, column = c["table_name"], c["column_name"]
        hit = await database.fetchval(
            schema,
            f'SELECT 1 FROM "{table}" WHERE strpos(lower("{column}"::text), lower($1)) > 0 LIMIT 1',
            needle,
        )
        if hit:
            found.append(f"{table}.{column}")
    return found


async def test_edits_and_an_erasure_reach_the_notifier_which_forgets_the_person_but_keeps_the_history(
    broker, database: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_NOTIFIER_BACKOFF_BASE_S", "0.2")
    with SmtpCapture() as smtp:
        monkeypatch.setenv("REGIA_SMTP_PORT", str(smtp.port))
        async with (
            in_process("partners", partners_app) as partners,
            in_process("notifier", notifier_app) as notifier,
            partners.client(headers=ADMIN_HEADERS) as p,
            notifier.client(headers=ADMIN_HEADERS) as admin,
        ):
            assert (await p.post("/v1/partners", json=COMUNE)).status_code == 201
            for contact in (ROSSI, BIANCHI):
                assert (await p.post("/v1/partners/comune-spezia/contacts", json=contact)).status_code == 201
            await objectives_known(p, broker.bootstrap_servers, "miglio-blu")
            assert (
                await p.put("/v1/objectives/miglio-blu/lead", json={"partner_id": "comune-spezia"})
            ).status_code == 200

            async def recipients() -> list[dict]:
                return (await admin.get("/v1/objectives/miglio-blu/recipients")).json().get("contacts", [])

            await eventually(lambda: _count_is(recipients, 2), what="both contacts projected")
            # Edited: the notifier's copy follows.
            r = await p.patch("/v1/contacts/rossi", json={"name": "Maria Rossi Bianco", "language": "en"})
            assert r.status_code == 200, r.text

            async def followed() -> bool:
                return any(c["name"] == "Maria Rossi Bianco" for c in await recipients())

            await eventually(followed, what="the contact's change in the notifier")
            # An alert: one e-mail to each, recorded with the address.
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])
            sent = await settled(admin, 2)
            assert MARIA in {d["recipient"] for d in sent}
            assert await text_holding(database, "notifier", MARIA)

            assert (await p.post("/v1/contacts/rossi/erasure")).status_code == 200
            await eventually(lambda: _count_is(recipients, 1), what="the erased contact gone from the recipients")

            async def forgotten() -> bool:
                return not await text_holding(database, "notifier", MARIA)

            await eventually(forgotten, what="the address gone from the notifier")
            for schema in ("notifier", "partners"):
                for needle in (MARIA, "Maria Rossi"):
                    assert await text_holding(database, schema, needle) == [], (schema, needle)
            # The history is whole: both deliveries, delivered, the erased one without address.
            after = await deliveries(admin)
            assert sorted(d["status"] for d in after) == ["DELIVERED", "DELIVERED"]
            theirs = next(d for d in after if d["contact_id"] == "rossi")
            assert theirs["recipient"] == f"erased:{theirs['delivery_id']}" and theirs["recipient_name"] == ""
            assert (await admin.get(f"/v1/deliveries/{theirs['delivery_id']}")).status_code == 200

            # Never alerted again: the next alert mails Bianchi only.
            worse = status_changed(status=CoverageStatus.UNFUNDED, previous=CoverageStatus.AT_RISK)
            await kafka.publish_objectives(broker.bootstrap_servers, [worse])
            await settled(admin, 3)
            assert [d["contact_id"] for d in await deliveries(admin)].count("rossi") == 1


async def _count_is(probe, count: int) -> bool:  # type: ignore[no-untyped-def]
    return len(await probe()) == count


async def test_a_renamed_funder_is_renamed_in_funding_too(partners, database, broker):  # type: ignore[no-untyped-def]
    """Funding keeps each funder's name for its exports, the open data and the console: a
    rename in partners (PartnerChanged) reaches it like the registration did."""
    from regia_funding.app import create_app as funding_app

    async with in_process("funding", funding_app) as funding, funding.client(headers=ADMIN_HEADERS) as admin:

        async def name_in_funding() -> str | None:
            listed = {i["institution_id"]: i["name"] for i in (await admin.get("/v1/institutions")).json()}
            return listed.get("comune-spezia")

        assert await eventually(name_in_funding, what="funding learned the Comune") == "Comune della Spezia"
        r = await partners.patch("/v1/partners/comune-spezia", json={"name": "Comune di La Spezia"})
        assert r.status_code == 200, r.text

        async def renamed() -> bool:
            return await name_in_funding() == "Comune di La Spezia"

        await eventually(renamed, what="funding renaming the Comune")
