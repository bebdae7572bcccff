"""The notifier knows partners only from the partner topic: started after a history of
changes (reassigned leads, withdrawn roles, members leaving and rejoining, preferences
changed twice, a partner and a contact edited, a contact erased on request), it rebuilds
from the topic exactly what the partners service holds."""

import pytest

from regia_notifier.app import create_app as notifier_app
from regia_partners.app import create_app as partners_app

from ..support.infra import Database
from ..support.partners import broker_bootstrap, objectives_known
from ..support.services import ADMIN_HEADERS, in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")

PARTNERS = [
    {"partner_id": "comune-spezia", "name": "Comune della Spezia", "kind": "INSTITUTION", "level": "COMUNE"},
    {"partner_id": "regione-liguria", "name": "Regione Liguria", "kind": "INSTITUTION", "level": "REGIONE"},
    {"partner_id": "cisl-spezia", "name": "CISL La Spezia", "kind": "TRADE_UNION"},
    {"partner_id": "confindustria-sp", "name": "Confindustria La Spezia", "kind": "EMPLOYER_ASSOCIATION"},
    {"partner_id": "enaip", "name": "ENAIP Liguria", "kind": "TRAINING_BODY"},
    {"partner_id": "unige", "name": "Università di Genova", "kind": "UNIVERSITY"},
    {"partner_id": "cnr-ismar", "name": "CNR ISMAR", "kind": "RESEARCH_BODY"},
    {"partner_id": "cpi-spezia", "name": "Centro per l'impiego", "kind": "EMPLOYMENT_AGENCY"},
    {"partner_id": "fincantieri", "name": "Fincantieri", "kind": "ENTERPRISE"},
    {"partner_id": "legambiente", "name": "Legambiente", "kind": "ASSOCIATION"},
]


async def history(admin) -> None:  # type: ignore[no-untyped-def]
    async def ok(response) -> None:  # type: ignore[no-untyped-def]
        assert response.status_code < 300, response.text

    for body in PARTNERS:
        await ok(await admin.post("/v1/partners", json=body))
    for i, p in enumerate(PARTNERS):
        await ok(
            await admin.post(
                f"/v1/partners/{p['partner_id']}/contacts",
                json={
                    "contact_id": f"c{i}",
                    "name": f"Persona {i}",
                    "email": f"persona{i}@{p['partner_id']}.it",
                    "language": "en" if i % 3 == 0 else "it",
                },
            )
        )
    await objectives_known(admin, broker_bootstrap(), "miglio-blu", "lavoro")
    await ok(await admin.put("/v1/objectives/miglio-blu/lead", json={"partner_id": "comune-spezia"}))
    await ok(await admin.put("/v1/objectives/miglio-blu/lead", json={"partner_id": "regione-liguria"}))
    await ok(await admin.put("/v1/objectives/lavoro/lead", json={"partner_id": "comune-spezia"}))
    for objective, partner, role in (
        ("miglio-blu", "comune-spezia", "FUNDER"),
        ("miglio-blu", "fincantieri", "PARTNER"),
        ("lavoro", "enaip", "IMPLEMENTING_BODY"),
        ("lavoro", "cpi-spezia", "PROGRAMME_LEAD"),
        ("lavoro", "cisl-spezia", "PARTNER"),
    ):
        await ok(await admin.put(f"/v1/objectives/{objective}/roles/{partner}", json={"role": role}))
    await ok(await admin.request("DELETE", "/v1/objectives/miglio-blu/roles/fincantieri", json={"role": "PARTNER"}))
    await ok(await admin.request("DELETE", "/v1/objectives/lavoro/roles/cisl-spezia", json={"role": "PARTNER"}))
    await ok(await admin.put("/v1/objectives/lavoro/roles/cisl-spezia", json={"role": "PARTNER"}))
    await ok(
        await admin.post(
            "/v1/networks",
            json={
                "network_id": "rete-lavoro",
                "name": "Rete per il lavoro",
                "founded_on": "2017-03-01",
                "coordinator_partner_id": "comune-spezia",
                "objective_id": "lavoro",
            },
        )
    )
    for partner in ("comune-spezia", "cisl-spezia", "confindustria-sp", "enaip", "unige", "cpi-spezia"):
        await ok(await admin.put(f"/v1/networks/rete-lavoro/members/{partner}", json={"joined_on": "2017-03-01"}))
    await ok(await admin.request("DELETE", "/v1/networks/rete-lavoro/members/unige", json={"left_on": "2019-12-31"}))
    await ok(
        await admin.request("DELETE", "/v1/networks/rete-lavoro/members/cisl-spezia", json={"left_on": "2020-01-01"})
    )
    await ok(await admin.put("/v1/networks/rete-lavoro/members/cisl-spezia", json={"joined_on": "2022-09-01"}))
    prefs = {"channels": ["email"], "language": "en", "cadence": "daily_digest", "event_kinds": ["status_changed"]}
    await ok(await admin.put("/v1/contacts/c1/preferences", json=prefs))
    await ok(
        await admin.put(
            "/v1/contacts/c1/preferences", json={**prefs, "cadence": "immediate", "channels": ["email", "webhook"]}
        )
    )
    await ok(
        await admin.put(
            "/v1/contacts/c4/preferences",
            json={
                **prefs,
                "language": "it",
                "cadence": "weekly_digest",
                "event_kinds": ["review_closed", "line_revoked"],
                "kinds": {"line_revoked": "off", "review_closed": "immediate"},
            },
        )
    )
    await ok(await admin.patch("/v1/partners/cpi-spezia", json={"name": "Centro per l'impiego della Spezia"}))
    await ok(await admin.patch("/v1/contacts/c2", json={"name": "Persona Due", "email": "due@cisl-spezia.it"}))
    await ok(await admin.post("/v1/contacts/c4/erasure"))  # its preferences go with it


# The same facts, as each service stores them.
QUERIES = {
    "partners": ("SELECT partner_id, name, kind, level FROM partners",) * 2,
    "contacts": ("SELECT contact_id, partner_id, name, email, language FROM contacts",) * 2,
    "leads": ("SELECT objective_id, partner_id FROM objective_leads",) * 2,
    "roles": (
        "SELECT objective_id, partner_id, role FROM objective_roles",
        "SELECT objective_id, partner_id, role FROM objective_roles WHERE held",
    ),
    "networks": ("SELECT network_id, name, founded_on, coordinator_partner_id, objective_id FROM networks",) * 2,
    "memberships": ("SELECT network_id, partner_id, joined_on, left_on FROM network_memberships",) * 2,
    "preferences": (
        "SELECT contact_id, (SELECT array_agg(c ORDER BY c) FROM unnest(channels) c), language,"
        " cadence, (SELECT array_agg(k ORDER BY k) FROM unnest(event_kinds) k), kinds"
        " FROM contact_preferences",
    )
    * 2,
}


async def snapshot(database: Database, schema: str) -> dict[str, list[tuple]]:
    side = 0 if schema == "partners" else 1
    return {
        name: sorted(tuple(r) for r in await database.fetch(schema, queries[side])) for name, queries in QUERIES.items()
    }


async def test_the_notifier_rebuilds_from_the_partner_topic_what_the_partners_service_holds(database, broker) -> None:  # type: ignore[no-untyped-def]
    async with in_process("partners", partners_app) as partners, partners.client(headers=ADMIN_HEADERS) as admin:
        await history(admin)
        expected = await snapshot(database, "partners")
        assert len(expected["partners"]) == 10 and len(expected["memberships"]) == 7
        assert len(expected["roles"]) == 4 and len(expected["preferences"]) == 1

        async with in_process("notifier", notifier_app):  # starts after it all: replays the topic

            async def rebuilt() -> bool:
                return await snapshot(database, "notifier") == expected

            try:
                await eventually(rebuilt, what="the notifier's projection equal to the partners' data")
            except AssertionError:
                assert await snapshot(database, "notifier") == expected  # shows the difference
