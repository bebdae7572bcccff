"""The partners service against a real PostgreSQL and broker: registering partners,
their contacts and objective leads over HTTP, and the events that tell everyone else."""

import pytest

from regia_partners.app import create_app
from regia_shared.contracts import topics

from ..support import kafka
from ..support.infra import Database
from ..support.partners import objectives_known
from ..support.services import ADMIN_HEADERS, in_process

pytestmark = pytest.mark.usefixtures("service_env")

LIGURIA = {"partner_id": "regione-liguria", "name": "Regione Liguria", "kind": "INSTITUTION", "level": "REGIONE"}
ROSSI = {"name": "Maria Rossi", "email": "maria.rossi@regione.liguria.it", "language": "it"}


@pytest.fixture
async def partners(service_env, broker):  # type: ignore[no-untyped-def]
    async with in_process("partners", create_app) as service:
        async with service.client(headers=ADMIN_HEADERS) as admin:
            # Leads go only on objectives the service knows (from the objectives' events).
            await objectives_known(admin, broker.bootstrap_servers, "miglio-blu", "mare")
            yield admin


async def counts(database: Database) -> tuple[int, int, int, int]:
    return tuple(
        [  # type: ignore[return-value]
            await database.fetchval("partners", f"SELECT count(*) FROM {table}")
            for table in ("partners", "contacts", "objective_leads", "outbox")
        ]
    )


async def test_partner_contact_and_lead_are_recorded_and_published(partners, database, broker):  # type: ignore[no-untyped-def]
    r = await partners.post("/v1/partners", json=LIGURIA)
    assert r.status_code == 201, r.text
    assert r.json()["level"] == "REGIONE" and r.json()["event_id"]
    r = await partners.post("/v1/partners/regione-liguria/contacts", json={**ROSSI, "contact_id": "rossi"})
    assert r.status_code == 201, r.text
    r = await partners.put("/v1/objectives/miglio-blu/lead", json={"partner_id": "regione-liguria"})
    assert r.status_code == 200, r.text
    assert r.json()["changed"] is True

    partner = (await partners.get("/v1/partners/regione-liguria")).json()
    assert partner["name"] == "Regione Liguria" and partner["kind"] == "INSTITUTION"
    assert [c["email"] for c in partner["contacts"]] == [ROSSI["email"]]
    assert partner["objectives_led"] == ["miglio-blu"]
    listed = (await partners.get("/v1/partners/regione-liguria/contacts")).json()["items"]
    assert [(c["contact_id"], c["language"]) for c in listed] == [("rossi", "it")]
    assert [p["partner_id"] for p in (await partners.get("/v1/partners")).json()["items"]] == ["regione-liguria"]

    published = await kafka.read_all(broker.bootstrap_servers, topics.PARTNERS, expect=3)
    by_type = {e.type: e for e in published}
    assert sorted(by_type) == ["ContactAdded", "ObjectiveLeadAssigned", "PartnerRegistered"]
    assert by_type["PartnerRegistered"].key == "regione-liguria"
    assert by_type["PartnerRegistered"].payload["level"] == "REGIONE"
    assert by_type["ContactAdded"].key == "regione-liguria"
    assert by_type["ContactAdded"].payload == {"partner_id": "regione-liguria", "contact_id": "rossi", **ROSSI}
    assert by_type["ObjectiveLeadAssigned"].key == "miglio-blu"
    assert by_type["ObjectiveLeadAssigned"].payload == {"objective_id": "miglio-blu", "partner_id": "regione-liguria"}
    metrics = (await partners.get("/metrics")).text
    assert 'regia_partners_registered_total{kind="INSTITUTION"} 1.0' in metrics


async def test_a_partner_has_its_territory_trimmed_shown_and_published(partners, broker):  # type: ignore[no-untyped-def]
    r = await partners.post("/v1/partners", json={**LIGURIA, "territory": "  Liguria \n"})
    assert r.status_code == 201, r.text
    assert r.json()["territory"] == "Liguria"
    assert (await partners.get("/v1/partners/regione-liguria")).json()["territory"] == "Liguria"
    again = await partners.post("/v1/partners", json={**LIGURIA, "territory": "Liguria"})
    assert again.status_code == 200 and again.json()["event_id"] is None
    # The territory is part of the partner: another one under the same id is a conflict.
    other = await partners.post("/v1/partners", json={**LIGURIA, "territory": "Piemonte"})
    assert other.status_code == 409 and other.json()["field"] == "partner_id", other.text
    r = await partners.post("/v1/partners", json={"partner_id": "cisl", "name": "CISL", "kind": "TRADE_UNION"})
    assert r.status_code == 201 and r.json()["territory"] is None, r.text

    published = await kafka.read_all(broker.bootstrap_servers, topics.PARTNERS, expect=2)
    # Two partners, two keys: the partitions may hand them back in either order.
    assert {e.payload["partner_id"]: e.payload.get("territory") for e in published} == {
        "regione-liguria": "Liguria",
        "cisl": None,
    }


async def test_repeating_a_request_changes_nothing(partners, database):  # type: ignore[no-untyped-def]
    assert (await partners.post("/v1/partners", json=LIGURIA)).status_code == 201
    contact = await partners.post("/v1/partners/regione-liguria/contacts", json=ROSSI)
    assert contact.status_code == 201
    assert (await partners.put("/v1/objectives/mare/lead", json={"partner_id": "regione-liguria"})).status_code == 200
    before = await counts(database)

    again = await partners.post("/v1/partners", json=LIGURIA)
    assert again.status_code == 200 and again.json()["event_id"] is None
    # Without a contact_id the address identifies the person: a retry finds the same contact.
    retried = await partners.post(
        "/v1/partners/regione-liguria/contacts", json={**ROSSI, "email": ROSSI["email"].upper()}
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["contact_id"] == contact.json()["contact_id"]
    lead = await partners.put("/v1/objectives/mare/lead", json={"partner_id": "regione-liguria"})
    assert lead.status_code == 200 and lead.json()["changed"] is False
    assert await counts(database) == before == (1, 1, 1, 3)


async def test_conflicting_data_under_a_known_id_is_409(partners, database):  # type: ignore[no-untyped-def]
    assert (await partners.post("/v1/partners", json=LIGURIA)).status_code == 201
    assert (
        await partners.post("/v1/partners/regione-liguria/contacts", json={**ROSSI, "contact_id": "rossi"})
    ).status_code == 201
    before = await counts(database)
    r = await partners.post("/v1/partners", json={**LIGURIA, "name": "Regione Piemonte"})
    assert r.status_code == 409 and r.json()["field"] == "partner_id", r.text
    r = await partners.post("/v1/partners", json={**LIGURIA, "level": "STATO"})
    assert r.status_code == 409
    r = await partners.post(
        "/v1/partners/regione-liguria/contacts", json={**ROSSI, "contact_id": "rossi", "language": "en"}
    )
    assert r.status_code == 409 and r.json()["field"] == "contact_id"
    r = await partners.post("/v1/partners/regione-liguria/contacts", json={**ROSSI, "contact_id": "other"})
    assert r.status_code == 409 and r.json()["field"] == "email"
    assert await counts(database) == before


async def test_a_new_lead_replaces_the_old_one(partners, database, broker):  # type: ignore[no-untyped-def]
    comune = {"partner_id": "comune-spezia", "name": "Comune della Spezia", "kind": "INSTITUTION", "level": "COMUNE"}
    for body in (LIGURIA, comune):
        assert (await partners.post("/v1/partners", json=body)).status_code == 201
    for lead in ("regione-liguria", "comune-spezia"):
        r = await partners.put("/v1/objectives/mare/lead", json={"partner_id": lead})
        assert r.json()["changed"] is True
    assert (await partners.get("/v1/objectives/mare/lead")).json()["partner_id"] == "comune-spezia"
    assert (await partners.get("/v1/partners/regione-liguria")).json()["objectives_led"] == []
    published = await kafka.read_all(broker.bootstrap_servers, topics.PARTNERS, expect=4)
    leads = [e.payload["partner_id"] for e in published if e.type == "ObjectiveLeadAssigned"]
    assert leads == ["regione-liguria", "comune-spezia"]


async def test_unknown_partner_is_404_and_writes_nothing(partners, database):  # type: ignore[no-untyped-def]
    r = await partners.post("/v1/partners/nobody/contacts", json=ROSSI)
    assert r.status_code == 404 and r.json()["field"] == "partner_id"
    r = await partners.put("/v1/objectives/miglio-blu/lead", json={"partner_id": "nobody"})
    assert r.status_code == 404 and r.json()["field"] == "partner_id"
    assert (await partners.get("/v1/partners/nobody")).status_code == 404
    assert (await partners.get("/v1/partners/nobody/contacts")).status_code == 404
    assert await counts(database) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/v1/partners", LIGURIA),
        ("post", "/v1/partners/regione-liguria/contacts", ROSSI),
        ("put", "/v1/objectives/miglio-blu/lead", {"partner_id": "regione-liguria"}),
        ("get", "/v1/partners", None),
        ("get", "/v1/partners/regione-liguria", None),
    ],
)
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic dGVzdDp0ZXN0"}]
)
async def test_admin_token_is_required(service_env, database, method, path, body, headers):  # type: ignore[no-untyped-def]
    async with in_process("partners", create_app) as service:
        async with service.client(headers=ADMIN_HEADERS) as admin:
            assert (await admin.post("/v1/partners", json=LIGURIA)).status_code == 201
        before = await counts(database)
        async with service.client(headers=headers) as client:
            r = await client.request(method, path, json=body)
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert await counts(database) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/partners", {**LIGURIA, "kind": "PIRATE"}, "kind"),
        ("/v1/partners", {**LIGURIA, "level": "GALAXY"}, "level"),
        ("/v1/partners", {k: v for k, v in LIGURIA.items() if k != "name"}, "name"),
        ("/v1/partners", {**LIGURIA, "name": ""}, "name"),
        ("/v1/partners", {**LIGURIA, "partner_id": "a/b"}, "partner_id"),
        ("/v1/partners", {**LIGURIA, "unexpected": 1}, "unexpected"),
        ("/v1/partners", {k: v for k, v in LIGURIA.items() if k != "level"}, "level"),
        ("/v1/partners", {**LIGURIA, "territory": "   "}, "territory"),
        ("/v1/partners", {**LIGURIA, "territory": ""}, "territory"),
        ("/v1/partners", {**LIGURIA, "territory": "x" * 201}, "territory"),
        ("/v1/partners", {**LIGURIA, "territory": 3}, "territory"),
        ("/v1/partners/regione-liguria/contacts", {**ROSSI, "email": "not-an-address"}, "email"),
        (
            "/v1/partners/regione-liguria/contacts",
            {**ROSSI, "email": "Maria Rossi <maria@regione.liguria.it>"},
            "email",
        ),
        ("/v1/partners/regione-liguria/contacts", {**ROSSI, "email": "maria@liguria"}, "email"),
        ("/v1/partners/regione-liguria/contacts", {**ROSSI, "email": "maria@città..it"}, "email"),
        ("/v1/partners/regione-liguria/contacts", {**ROSSI, "email": "maria@regione.local"}, "email"),
        ("/v1/partners/regione-liguria/contacts", {**ROSSI, "email": "é" * 33 + "@comune.it"}, "email"),
        ("/v1/partners/regione-liguria/contacts", {**ROSSI, "email": "maria" + "@x.it" * 70}, "email"),
        ("/v1/partners/regione-liguria/contacts", {**ROSSI, "language": "fr"}, "language"),
        ("/v1/partners/regione-liguria/contacts", {**ROSSI, "contact_id": "x y"}, "contact_id"),
        ("/v1/partners/regione-liguria/contacts", {k: v for k, v in ROSSI.items() if k != "email"}, "email"),
    ],
)
async def test_malformed_body_is_422_naming_the_field(partners, database, path, body, field):  # type: ignore[no-untyped-def]
    if "contacts" in path:
        assert (await partners.post("/v1/partners", json=LIGURIA)).status_code == 201
    before = await counts(database)
    r = await partners.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.json()
    assert await counts(database) == before


async def test_malformed_lead_is_422(partners, database):  # type: ignore[no-untyped-def]
    r = await partners.put("/v1/objectives/miglio-blu/lead", json={"partner": "regione-liguria"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "partner_id", r.json()
    r = await partners.put("/v1/objectives/bad%20id/lead", json={"partner_id": "regione-liguria"})
    assert r.status_code == 422 and r.json()["field"] == "path.objective_id", r.json()
    assert await counts(database) == (0, 0, 0, 0)


async def test_an_internationalised_address_is_accepted_in_one_normalised_form(partners, database):  # type: ignore[no-untyped-def]
    """The notifier sends these (IDNA for the domain, SMTPUTF8 for the local part), so
    registration takes them, kept NFC with the domain in lower case and in Unicode: the
    same address typed another way is the same contact."""
    assert (await partners.post("/v1/partners", json=LIGURIA)).status_code == 201
    for typed, kept in (
        ("Jose\u0301@Comune.IT", "José@comune.it"),
        ("info@CITTÀ.it", "info@città.it"),
        ("用户@例子.广告", "用户@例子.广告"),
    ):
        r = await partners.post("/v1/partners/regione-liguria/contacts", json={**ROSSI, "email": typed})
        assert r.status_code == 201, r.text
        assert r.json()["email"] == kept
    before = await counts(database)
    for again in ("José@comune.it", "info@xn--citt-3na.it", "用户@例子.广告"):
        r = await partners.post("/v1/partners/regione-liguria/contacts", json={**ROSSI, "email": again})
        assert r.status_code == 200, r.text  # found, not a second contact
    assert await counts(database) == before
    r = await partners.post(
        "/v1/partners/regione-liguria/contacts", json={**ROSSI, "email": "Maria <maria@regione.liguria.it>"}
    )
    assert r.status_code == 422 and r.json()["field"] == "email"
    assert "display name" in r.json()["message"], r.json()
