"""Issue 20, least privilege through the API: four people log in (an administrator, an
institution officer, a project lead, an observer) and each of the four services answers
each of them exactly what their role may do — scoped to their institution or to the
objectives their partner leads — and the audit names the person."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from regia_funding.app import create_app as funding_app
from regia_notifier.app import create_app as notifier_app
from regia_objectives.app import create_app as objectives_app
from regia_partners.app import create_app as partners_app

from ..support.funding_api import commitment, issue_key
from ..support.infra import Database
from ..support.partners import broker_bootstrap, objectives_known
from ..support.services import ADMIN_HEADERS, RunningService, in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")
PASSWORD = "una frase lunga e segreta"
PEOPLE = {
    "amministratore": {"role": "administrator"},
    "ufficio-regione": {"role": "institution_officer", "institution_id": "regione-liguria"},
    "capo-progetto": {"role": "project_lead", "partner_id": "porto", "contact_id": "porto-piano"},
    "revisore": {"role": "observer"},
}


@dataclass
class Stack:
    funding: RunningService
    objectives: RunningService
    partners: RunningService
    notifier: RunningService
    tokens: dict[str, str]
    indicators: dict[str, str]

    def as_(self, person: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {self.tokens[person]}"})


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with (
        in_process("funding", funding_app) as funding,
        in_process("objectives", objectives_app) as objectives,
        in_process("partners", partners_app) as partners,
        in_process("notifier", notifier_app) as notifier,
        httpx.AsyncClient(timeout=10, headers=ADMIN_HEADERS) as admin,
    ):
        for partner_id, name, level in (
            ("regione-liguria", "Regione Liguria", "REGIONE"),
            ("comune-spezia", "Comune della Spezia", "COMUNE"),
            ("porto", "Autorità di sistema portuale", "OTHER_PUBLIC"),
        ):
            body = {"partner_id": partner_id, "name": name, "kind": "INSTITUTION", "level": level}
            assert (await admin.post(f"{partners.url}/v1/partners", json=body)).status_code == 201
        contact = {"contact_id": "porto-piano", "name": "Ufficio piano", "email": "piano@porto.example.it"}
        r = await admin.post(f"{partners.url}/v1/partners/porto/contacts", json=contact)
        assert r.status_code == 201, r.text
        for objective_id in ("miglio-blu", "altro"):
            body = {
                "objective_id": objective_id,
                "title": objective_id,
                "at_risk_threshold_pct": 80,
                "needs": [{"fiscal_year": 2027, "need_cents": 1_000_000_00}],
            }
            assert (await admin.post(f"{objectives.url}/v1/objectives", json=body)).status_code == 201
        await objectives_known(admin, broker_bootstrap(), "miglio-blu", announce=False, base_url=partners.url)
        r = await admin.put(f"{partners.url}/v1/objectives/miglio-blu/lead", json={"partner_id": "porto"})
        assert r.status_code == 200, r.text
        indicators = {}
        for objective_id in ("miglio-blu", "altro"):
            indicator = {
                "indicator_id": f"{objective_id}-imprese",
                "name": "Imprese",
                "unit": "imprese",
                "direction": "INCREASING",
                "baseline": {"value": "10", "year": 2025},
                "targets": [{"fiscal_year": 2027, "value": "20"}],
            }
            r = await admin.post(f"{objectives.url}/v1/objectives/{objective_id}/indicators", json=indicator)
            assert r.status_code == 201, r.text
            indicators[objective_id] = indicator["indicator_id"]

        async def lead_projected() -> bool:
            r = await admin.get(f"{objectives.url}/v1/objectives", params={"lead": "porto"})
            return [o["objective_id"] for o in r.json()["items"]] == ["miglio-blu"]

        await eventually(lead_projected, what="objectives learned the lead of miglio-blu")

        async def funders_known() -> bool:
            listed = {i["institution_id"] for i in (await admin.get(f"{funding.url}/v1/institutions")).json()}
            known = (await admin.get(f"{funding.url}/v1/objectives/miglio-blu")).status_code == 200
            return known and {"regione-liguria", "comune-spezia"} <= listed

        await eventually(funders_known, what="funding learned the funders and the objective")
        for institution, line in (("regione-liguria", "LIG-1"), ("comune-spezia", "SP-1")):
            body = {"instrument_id": f"{institution}-bilancio", "institution_id": institution, "name": "Bilancio"}
            assert (await admin.post(f"{funding.url}/v1/instruments", json=body)).status_code == 201
            key = await issue_key(funding, institution)
            event = commitment(line, objective_id="miglio-blu", instrument_id=f"{institution}-bilancio")
            r = await admin.post(
                f"{funding.url}/v1/funding-events", json=event, headers={**key, "Idempotency-Key": line}
            )
            assert r.status_code == 202, r.text

        tokens = {}
        for account_id, scope in PEOPLE.items():
            body = {"account_id": account_id, "name": account_id.replace("-", " ").title(), "password": PASSWORD}
            r = await admin.post(f"{partners.url}/v1/accounts", json={**body, **scope})
            assert r.status_code == 201, r.text
            r = await admin.post(
                f"{partners.url}/v1/sessions", json={"login": account_id, "password": PASSWORD}, headers={}
            )
            assert r.status_code == 201, r.text
            tokens[account_id] = r.json()["access_token"]
        yield Stack(funding, objectives, partners, notifier, tokens, indicators)


def lines_seen(answer: httpx.Response) -> set[str]:
    assert answer.status_code == 200, answer.text
    return {line["line_id"] for line in answer.json()["items"]}


async def test_each_role_gets_exactly_its_rights_from_every_service(stack: Stack, database: Database) -> None:
    funding, objectives, partners, notifier = (
        s.url for s in (stack.funding, stack.objectives, stack.partners, stack.notifier)
    )
    measurement = {"measured_on": "2026-06-30", "value": "12"}
    preferences = {"channels": ["email"], "cadence": "daily_digest"}

    async with stack.as_("ufficio-regione") as officer:
        assert lines_seen(await officer.get(f"{funding}/v1/funding-lines")) == {"LIG-1"}
        assert (await officer.get(f"{funding}/v1/funding-lines/SP-1")).status_code in {403, 404}
        r = await officer.post(f"{funding}/v1/institutions/regione-liguria/keys", json={"label": "rotazione"})
        assert r.status_code == 201, r.text
        r = await officer.post(f"{funding}/v1/institutions/comune-spezia/keys", json={"label": "altrui"})
        assert r.status_code == 403 and "comune-spezia" in r.json()["message"], r.text
        assert (await officer.get(f"{funding}/v1/institutions/comune-spezia/keys")).status_code == 403
        assert (await officer.post(f"{funding}/v1/instruments", json={})).status_code == 403
        # An officer records a cut on their institution's line by hand; not on another's.
        cut = {"type": "revision", "line_id": "LIG-1", "committed_cents": 60_000_00, "reason": "DGR 7/2026: taglio"}
        r = await officer.post(f"{funding}/v1/funding-events", json=cut, headers={"Idempotency-Key": "cut-1"})
        assert r.status_code == 202, r.text
        other = {**cut, "line_id": "SP-1"}
        r = await officer.post(f"{funding}/v1/funding-events", json=other, headers={"Idempotency-Key": "cut-2"})
        assert r.status_code in {403, 404, 409, 422}, r.text
        assert (await officer.get(f"{notifier}/v1/rules")).status_code == 403
        r = await officer.post(
            f"{objectives}/v1/indicators/{stack.indicators['miglio-blu']}/measurements", json=measurement
        )
        assert r.status_code == 403, r.text

    async with stack.as_("capo-progetto") as lead:
        r = await lead.post(
            f"{objectives}/v1/indicators/{stack.indicators['miglio-blu']}/measurements", json=measurement
        )
        assert r.status_code == 201, r.text
        r = await lead.post(f"{objectives}/v1/indicators/{stack.indicators['altro']}/measurements", json=measurement)
        assert r.status_code == 403 and "porto" in r.json()["message"], r.text
        r = await lead.put(f"{partners}/v1/contacts/porto-piano/preferences", json=preferences)
        assert r.status_code == 200, r.text
        assert (await lead.get(f"{partners}/v1/contacts/porto-piano/preferences")).json()["cadence"] == "daily_digest"
        assert (await lead.get(f"{funding}/v1/funding-lines")).status_code == 403
        assert (await lead.post(f"{objectives}/v1/objectives", json={})).status_code == 403
        assert (await lead.get(f"{partners}/v1/partners")).status_code == 403  # contacts are not theirs

    async with stack.as_("revisore") as observer:
        assert lines_seen(await observer.get(f"{funding}/v1/funding-lines")) == {"LIG-1", "SP-1"}
        for url in (
            f"{funding}/v1/audit",
            f"{objectives}/v1/audit",
            f"{notifier}/v1/rules",
            f"{funding}/v1/ledger/verify",
        ):
            r = await observer.get(url)
            assert r.status_code == 200, (url, r.text)
        r = await observer.post(
            f"{funding}/v1/instruments", json={"instrument_id": "x", "institution_id": "porto", "name": "x"}
        )
        assert r.status_code == 403 and "observer" in r.json()["message"], r.text
        assert (await observer.post(f"{funding}/v1/institutions/regione-liguria/keys", json={})).status_code == 403
        assert (await observer.get(f"{partners}/v1/partners")).status_code == 403
        r = await observer.post(f"{funding}/v1/funding-events", json={}, headers={"Idempotency-Key": "x"})
        assert r.status_code == 403, r.text
        assert (await observer.get(f"{partners}/v1/accounts")).status_code == 403
        assert (await observer.get(f"{notifier}/v1/deliveries")).status_code == 403  # addresses
        r = await observer.put(f"{partners}/v1/contacts/porto-piano/preferences", json=preferences)
        assert r.status_code == 403, r.text

    async with stack.as_("amministratore") as administrator:
        body = {"instrument_id": "porto-fondi", "institution_id": "porto", "name": "Fondi del porto"}
        reason = {"X-Regia-Reason": "Nuovo fondo del porto (delibera 12/2026)"}
        r = await administrator.post(f"{funding}/v1/instruments", json=body, headers=reason)
        assert r.status_code == 201, r.text
        assert (await administrator.get(f"{partners}/v1/accounts")).status_code == 200
        assert lines_seen(await administrator.get(f"{funding}/v1/funding-lines")) == {"LIG-1", "SP-1"}

    # The audit names each person by their account, never "admin".
    async def audited() -> list | None:
        rows = await database.fetch(
            "funding",
            "SELECT actor, route, status FROM audit_log WHERE actor LIKE 'person:%' ORDER BY id",
        )
        found = {(r["actor"], r["route"], r["status"]) for r in rows}
        wanted = {
            ("person:ufficio-regione", "/v1/institutions/{institution_id}/keys", 201),
            ("person:ufficio-regione", "/v1/institutions/{institution_id}/keys", 403),
            ("person:revisore", "/v1/instruments", 403),
            ("person:amministratore", "/v1/instruments", 201),
            ("person:ufficio-regione", "/v1/funding-events", 202),
        }
        return rows if wanted <= found else None

    await eventually(audited, what="the audit naming each person")
    # The lead's measurement is audited in its own transaction, naming the lead.
    measured = await database.fetch(
        "objectives",
        "SELECT actor, subject FROM audit_log WHERE subject LIKE 'indicator:%' AND actor LIKE 'person:%'",
    )
    assert [dict(r) for r in measured] == [{"actor": "person:capo-progetto", "subject": "indicator:miglio-blu-imprese"}]
    # The cut's row: the person, by account and by name, the channel and the reason, written
    # in the cut's own transaction.
    cut = await database.fetch(
        "funding",
        "SELECT actor, actor_name, channel, reason FROM audit_log WHERE route = '/v1/funding-events' AND status = 202"
        " AND actor LIKE 'person:%'",
    )
    assert [dict(r) for r in cut] == [
        {
            "actor": "person:ufficio-regione",
            "actor_name": "Ufficio Regione",
            "channel": "http",
            "reason": "DGR 7/2026: taglio",
        }
    ]
