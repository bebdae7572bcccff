"""The partners service's roles on objectives, networks with memberships over time,
contacts' notification preferences and search, against a real PostgreSQL and broker."""

import pytest

from regia_partners.app import create_app
from regia_shared.contracts import topics

from ..support import kafka
from ..support.infra import Database
from ..support.partners import objectives_known
from ..support.services import ADMIN_HEADERS, in_process

pytestmark = pytest.mark.usefixtures("service_env")

COMUNE = {"partner_id": "comune-spezia", "name": "Comune della Spezia", "kind": "INSTITUTION", "level": "COMUNE"}
LIGURIA = {"partner_id": "regione-liguria", "name": "Regione Liguria", "kind": "INSTITUTION", "level": "REGIONE"}
CISL = {"partner_id": "cisl-spezia", "name": "CISL La Spezia", "kind": "TRADE_UNION"}
ENAIP = {"partner_id": "enaip", "name": "ENAIP Liguria", "kind": "TRAINING_BODY"}
RETE = {
    "network_id": "rete-lavoro",
    "name": "Rete per il lavoro",
    "founded_on": "2017-03-01",
    "coordinator_partner_id": "comune-spezia",
    "objective_id": "lavoro",
}


@pytest.fixture
async def partners(service_env, broker):  # type: ignore[no-untyped-def]
    async with in_process("partners", create_app) as service:
        async with service.client(headers=ADMIN_HEADERS) as admin:
            for body in (COMUNE, LIGURIA, CISL, ENAIP):
                assert (await admin.post("/v1/partners", json=body)).status_code == 201
            # Leads and roles go only on objectives the service knows (from the objectives' events).
            await objectives_known(admin, broker.bootstrap_servers, "mare", "lavoro")
            yield admin


async def counts(database: Database) -> tuple[int, ...]:
    return tuple(
        [  # type: ignore[return-value]
            await database.fetchval("partners", f"SELECT count(*) FROM {table}")
            for table in ("objective_roles", "networks", "network_memberships", "contact_preferences", "outbox")
        ]
    )


async def test_roles_are_a_set_assigned_and_withdrawn_with_events(partners, database, broker):  # type: ignore[no-untyped-def]
    assert (await partners.put("/v1/objectives/mare/lead", json={"partner_id": "regione-liguria"})).status_code == 200
    r = await partners.put("/v1/objectives/mare/roles/comune-spezia", json={"role": "IMPLEMENTING_BODY"})
    assert r.status_code == 201 and r.json()["event_id"], r.text
    r = await partners.put("/v1/objectives/mare/roles/comune-spezia", json={"role": "FUNDER"})
    assert r.status_code == 201
    r = await partners.put("/v1/objectives/mare/roles/regione-liguria", json={"role": "FUNDER"})
    assert r.status_code == 201
    before = await counts(database)
    again = await partners.put("/v1/objectives/mare/roles/comune-spezia", json={"role": "FUNDER"})
    assert again.status_code == 200 and again.json()["event_id"] is None
    assert await counts(database) == before

    listed = (await partners.get("/v1/objectives/mare/roles")).json()["items"]
    assert [(r["role"], r["partner_id"]) for r in listed] == [
        ("FUNDER", "comune-spezia"),
        ("FUNDER", "regione-liguria"),
        ("IMPLEMENTING_BODY", "comune-spezia"),
        ("LEAD", "regione-liguria"),
    ]

    r = await partners.request("DELETE", "/v1/objectives/mare/roles/comune-spezia", json={"role": "FUNDER"})
    assert r.status_code == 200 and r.json()["changed"] is True, r.text
    r = await partners.request("DELETE", "/v1/objectives/mare/roles/comune-spezia", json={"role": "FUNDER"})
    assert r.status_code == 200 and r.json()["changed"] is False and r.json()["event_id"] is None
    listed = (await partners.get("/v1/objectives/mare/roles")).json()["items"]
    assert ("FUNDER", "comune-spezia") not in [(r["role"], r["partner_id"]) for r in listed]

    published = await kafka.read_all(broker.bootstrap_servers, topics.PARTNERS, expect=9)
    role_events = [e for e in published if e.type.startswith("ObjectiveRole")]
    assert [(e.type, e.key, e.payload["partner_id"], e.payload["role"]) for e in role_events] == [
        ("ObjectiveRoleAssigned", "mare", "comune-spezia", "IMPLEMENTING_BODY"),
        ("ObjectiveRoleAssigned", "mare", "comune-spezia", "FUNDER"),
        ("ObjectiveRoleAssigned", "mare", "regione-liguria", "FUNDER"),
        ("ObjectiveRoleWithdrawn", "mare", "comune-spezia", "FUNDER"),
    ]
    # The lead keeps its own endpoint and event.
    assert [e.payload for e in published if e.type == "ObjectiveLeadAssigned"] == [
        {"objective_id": "mare", "partner_id": "regione-liguria"}
    ]


async def test_bad_roles_are_refused_and_write_nothing(partners, database):  # type: ignore[no-untyped-def]
    before = await counts(database)
    r = await partners.put("/v1/objectives/mare/roles/comune-spezia", json={"role": "PIRATE"})
    assert r.status_code == 422 and r.json()["field"] == "role", r.text
    r = await partners.put("/v1/objectives/mare/roles/comune-spezia", json={"role": "LEAD"})
    assert r.status_code == 422 and r.json()["field"] == "role", r.text
    r = await partners.put("/v1/objectives/mare/roles/nobody", json={"role": "PARTNER"})
    assert r.status_code == 404 and r.json()["field"] == "partner_id"
    r = await partners.request("DELETE", "/v1/objectives/mare/roles/nobody", json={"role": "PARTNER"})
    assert r.status_code == 404
    assert await counts(database) == before


async def test_a_network_keeps_its_members_over_time(partners, database, broker):  # type: ignore[no-untyped-def]
    r = await partners.post("/v1/networks", json=RETE)
    assert r.status_code == 201 and r.json()["founded_on"] == "2017-03-01", r.text
    assert (await partners.post("/v1/networks", json=RETE)).status_code == 200
    r = await partners.post("/v1/networks", json={**RETE, "name": "Altra rete"})
    assert r.status_code == 409 and r.json()["field"] == "network_id"

    for partner_id, joined in (("comune-spezia", "2017-03-01"), ("cisl-spezia", "2017-03-01"), ("enaip", "2018-06-15")):
        r = await partners.put(f"/v1/networks/rete-lavoro/members/{partner_id}", json={"joined_on": joined})
        assert r.status_code == 201, r.text
    r = await partners.put("/v1/networks/rete-lavoro/members/enaip", json={"joined_on": "2018-06-15"})
    assert r.status_code == 200 and r.json()["event_id"] is None
    r = await partners.request("DELETE", "/v1/networks/rete-lavoro/members/cisl-spezia", json={"left_on": "2020-01-01"})
    assert r.status_code == 200 and r.json()["changed"] is True, r.text
    r = await partners.request("DELETE", "/v1/networks/rete-lavoro/members/cisl-spezia", json={"left_on": "2020-01-01"})
    assert r.status_code == 200 and r.json()["changed"] is False
    r = await partners.put("/v1/networks/rete-lavoro/members/cisl-spezia", json={"joined_on": "2022-09-01"})
    assert r.status_code == 201, r.text

    async def members(day: str) -> list[str]:
        r = await partners.get("/v1/networks/rete-lavoro", params={"as_of": day})
        assert r.status_code == 200, r.text
        return [m["partner_id"] for m in r.json()["members"]]

    assert await members("2016-12-31") == []
    assert await members("2017-03-01") == ["cisl-spezia", "comune-spezia"]
    assert await members("2019-01-01") == ["cisl-spezia", "comune-spezia", "enaip"]
    assert await members("2020-01-01") == ["comune-spezia", "enaip"]
    assert await members("2023-01-01") == ["cisl-spezia", "comune-spezia", "enaip"]
    assert await database.fetchval("partners", "SELECT count(*) FROM network_memberships") == 4

    published = await kafka.read_all(broker.bootstrap_servers, topics.PARTNERS, expect=10)
    network_events = [(e.type, e.key) for e in published if e.type.startswith("Network")]
    assert network_events == [("NetworkFormed", "rete-lavoro")] + [("NetworkMemberJoined", "rete-lavoro")] * 3 + [
        ("NetworkMemberLeft", "rete-lavoro"),
        ("NetworkMemberJoined", "rete-lavoro"),
    ]
    left = next(e for e in published if e.type == "NetworkMemberLeft")
    assert left.payload == {"network_id": "rete-lavoro", "partner_id": "cisl-spezia", "left_on": "2020-01-01"}


async def test_bad_memberships_are_refused_and_write_nothing(partners, database):  # type: ignore[no-untyped-def]
    assert (await partners.post("/v1/networks", json=RETE)).status_code == 201
    assert (
        await partners.put("/v1/networks/rete-lavoro/members/enaip", json={"joined_on": "2018-01-01"})
    ).status_code == 201
    before = await counts(database)
    cases = [
        ("put", "/v1/networks/rete-lavoro/members/cisl-spezia", {"joined_on": "2016-01-01"}, 422, "joined_on"),
        ("put", "/v1/networks/rete-lavoro/members/cisl-spezia", {"joined_on": "yesterday"}, 422, "joined_on"),
        ("put", "/v1/networks/rete-lavoro/members/enaip", {"joined_on": "2019-01-01"}, 409, "joined_on"),
        ("put", "/v1/networks/nowhere/members/enaip", {"joined_on": "2019-01-01"}, 404, "network_id"),
        ("put", "/v1/networks/rete-lavoro/members/nobody", {"joined_on": "2019-01-01"}, 404, "partner_id"),
        ("delete", "/v1/networks/rete-lavoro/members/enaip", {"left_on": "2017-12-31"}, 422, "left_on"),
        ("delete", "/v1/networks/rete-lavoro/members/cisl-spezia", {"left_on": "2019-01-01"}, 404, "partner_id"),
    ]
    for method, path, body, status, field in cases:
        r = await partners.request(method.upper(), path, json=body)
        assert r.status_code == status and r.json()["field"] == field, (path, body, r.text)
    r = await partners.post("/v1/networks", json={**RETE, "network_id": "other", "coordinator_partner_id": "nobody"})
    assert r.status_code == 404 and r.json()["field"] == "coordinator_partner_id"
    assert await counts(database) == before
    assert (await partners.get("/v1/networks/nowhere")).status_code == 404


async def test_contact_preferences_are_validated_and_published(partners, database, broker):  # type: ignore[no-untyped-def]
    r = await partners.post(
        "/v1/partners/comune-spezia/contacts",
        json={"contact_id": "bianchi", "name": "Luca Bianchi", "email": "l.bianchi@comune.sp.it"},
    )
    assert r.status_code == 201
    prefs = {
        "channels": ["webhook", "email"],
        "language": "en",
        "cadence": "daily_digest",
        "event_kinds": ["status_changed", "funding_dropped"],
    }
    r = await partners.put("/v1/contacts/bianchi/preferences", json=prefs)
    assert r.status_code == 200 and r.json()["changed"] is True, r.text
    r = await partners.put("/v1/contacts/bianchi/preferences", json={**prefs, "channels": ["email", "webhook"]})
    assert r.json()["changed"] is False and r.json()["event_id"] is None
    got = (await partners.get("/v1/contacts/bianchi/preferences")).json()
    assert got["channels"] == ["email", "webhook"] and got["cadence"] == "daily_digest"

    before = await counts(database)
    for body, field in (
        ({**prefs, "channels": []}, "channels"),
        ({**prefs, "channels": ["sms"]}, "channels"),
        ({**prefs, "language": "fr"}, "language"),
        ({**prefs, "cadence": "weekly"}, "cadence"),
        ({**prefs, "event_kinds": ["everything"]}, "event_kinds"),
    ):
        r = await partners.put("/v1/contacts/bianchi/preferences", json=body)
        assert r.status_code == 422 and r.json()["field"].startswith(field), r.text
    r = await partners.put("/v1/contacts/nobody/preferences", json=prefs)
    assert r.status_code == 404 and r.json()["field"] == "contact_id"
    assert await counts(database) == before

    published = await kafka.read_all(broker.bootstrap_servers, topics.PARTNERS, expect=6)
    changed = [e for e in published if e.type == "ContactPreferencesChanged"]
    assert len(changed) == 1 and changed[0].key == "comune-spezia"
    assert changed[0].payload == {
        "partner_id": "comune-spezia",
        "contact_id": "bianchi",
        "channels": ["email", "webhook"],
        "language": "en",
        "cadence": "daily_digest",
        "event_kinds": ["funding_dropped", "status_changed"],
        "kinds": {},
        "reason": None,
    }
    assert changed[0].version == 2


async def test_search_by_name_kind_and_level(partners):  # type: ignore[no-untyped-def]
    async def ids(**params: object) -> list[str]:
        r = await partners.get("/v1/partners", params=params)
        assert r.status_code == 200, r.text
        return [p["partner_id"] for p in r.json()["items"]]

    assert await ids(q="liguria") == ["enaip", "regione-liguria"]
    assert await ids(q="LIGURIA", kind="INSTITUTION") == ["regione-liguria"]
    assert await ids(level="COMUNE") == ["comune-spezia"]
    assert await ids(q="%") == []  # a plain string, not a wildcard
    assert await ids(q="'; DROP TABLE partners; --") == []
    assert await ids(limit=2) == ["cisl-spezia", "comune-spezia"]
    cursor = (await partners.get("/v1/partners", params={"limit": 2})).json()["next_cursor"]
    assert await ids(limit=2, cursor=cursor) == ["enaip", "regione-liguria"]
    r = await partners.get("/v1/partners", params={"limit": 0})
    assert r.status_code == 422
