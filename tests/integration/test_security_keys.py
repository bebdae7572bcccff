"""Issue 7, credentials: an institution key writes only its institution's lines and is
refused on the very next request once revoked; every write route of every service wants a
credential (discovered from the apps' routes, not listed by hand), and an institution key
is no admin credential."""

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from regia_funding.app import create_app as funding_app
from regia_notifier.app import create_app as notifier_app
from regia_objectives.app import create_app as objectives_app
from regia_partners.app import create_app as partners_app

from ..support.figures import record
from ..support.funding_api import commitment, counts, issue_key, running_funding
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, REASON_HEADERS, RunningService, in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")
READS = {"GET", "HEAD"}
# Ingestion takes an institution key, not the admin's: the only writes a key may make.
KEY_ROUTES = {("POST", "/v1/funding-events"), ("POST", "/v1/funding-events/batch")}
# Logging in takes no credential: the credentials are its body (tests/integration/test_accounts.py).
LOGIN_ROUTES = {("POST", "/v1/sessions"), ("POST", "/v1/sessions/oidc"), ("POST", "/v1/sessions/refresh")}


def routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path template) of every route the app serves, through included routers."""

    def walk(items: list) -> Iterator[tuple[str, str]]:
        for route in items:
            if hasattr(route, "effective_route_contexts"):  # an included router (FastAPI ≥ 0.16x)
                yield from walk(list(route.effective_route_contexts()))
            elif hasattr(route, "routes"):
                yield from walk(route.routes)
            for method in getattr(route, "methods", None) or ():
                yield method, getattr(route, "path_format", None) or route.path

    yield from walk(app.routes)


def writes(app: FastAPI) -> list[tuple[str, str]]:
    found = sorted({(m, p) for m, p in routes(app) if m not in READS} - LOGIN_ROUTES)
    # The walk must see at least what the OpenAPI document lists, or it would miss routes.
    documented = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops} - {
        (m, p) for m in READS for p in app.openapi()["paths"]
    }
    assert documented - LOGIN_ROUTES <= set(found), documented - set(found)
    return found


def concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "2027", template)


async def test_every_write_route_of_every_service_wants_a_credential(service_env, broker, database: Database) -> None:  # type: ignore[no-untyped-def]
    tried = 0
    async for funding in running_funding(broker.bootstrap_servers):
        key = await issue_key(funding, "regione-liguria")
        services: list[tuple[RunningService, FastAPI]] = [(funding, funding_app())]
        async with (
            in_process("partners", partners_app) as partners,
            in_process("objectives", objectives_app) as objectives,
            in_process("notifier", notifier_app) as notifier,
        ):
            services += [(partners, partners_app()), (objectives, objectives_app()), (notifier, notifier_app())]
            for service, app in services:
                found = writes(app)
                assert len(found) >= 3, (service.name, found)
                async with service.client() as client:
                    for method, template in found:
                        path = concrete(template)
                        r = await client.request(method, path)
                        assert r.status_code == 401, (service.name, method, template, r.status_code, r.text)
                        assert r.json()["error"] == "unauthorized"
                        r = await client.request(method, path, headers={"Authorization": "Bearer guessed"})
                        assert r.status_code == 401, (service.name, method, template, r.status_code)
                        if (method, template) not in KEY_ROUTES:
                            r = await client.request(method, path, headers=key)
                            assert r.status_code == 401, (service.name, method, template, r.status_code)
                            tried += 1
                        tried += 2

                    # Every refusal is in the service's audit trail, as anonymous.
                    expected = len(found) * 3 - len(KEY_ROUTES & set(found))

                    async def audited(name: str = service.name, expected: int = expected) -> int | None:
                        n = await database.fetchval(
                            name, "SELECT count(*) FROM audit_log WHERE status = 401 AND actor = 'anonymous'"
                        )
                        return n if n == expected else None

                    await eventually(audited, what=f"{expected} refusals audited by {service.name}")
    record("writes without credentials refused", inputs=tried, requests=tried)


async def test_a_revoked_key_is_refused_on_the_very_next_request(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        issued = (await admin.post("/v1/institutions/regione-liguria/keys", json={"label": "t"})).json()
    key = {"Authorization": f"Bearer {issued['key']}", **REASON_HEADERS}
    async with funding.client(headers=key) as region, funding.client(headers=ADMIN_HEADERS) as admin:
        r = await region.post("/v1/funding-events", json=commitment("LIG-1"), headers={"Idempotency-Key": "r-1"})
        assert r.status_code == 202, r.text
        assert (await admin.delete(f"/v1/keys/{issued['key_id']}")).status_code == 204
        before = await counts(database)
        # The very next request, on the same connection: refused, though funding remembers
        # having verified the key (entrypoints.verified_keys): its transaction reads the key
        # again, and answers as the door would.
        r = await region.post("/v1/funding-events", json=commitment("LIG-2"), headers={"Idempotency-Key": "r-2"})
        assert r.status_code == 401, r.text
        assert r.json() == {"error": "unauthorized", "message": "invalid API key", "field": None, "details": []}
        assert r.headers["WWW-Authenticate"] == "Bearer"
        # Not even the replay of what the key did before revocation.
        r = await region.post("/v1/funding-events", json=commitment("LIG-1"), headers={"Idempotency-Key": "r-1"})
        assert r.status_code == 401, r.text
        r = await region.post(
            "/v1/funding-events/batch", json={"events": [commitment("LIG-3")]}, headers={"Idempotency-Key": "r-3"}
        )
        assert r.status_code == 401, r.text
        assert (await region.get("/v1/funding-lines/LIG-1")).status_code == 401
        assert await counts(database) == before
        # Revoking twice says so; another key of the same institution still works.
        assert (await admin.delete(f"/v1/keys/{issued['key_id']}")).status_code == 404
    other = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=other) as region:
        r = await region.post("/v1/funding-events", json=commitment("LIG-2"), headers={"Idempotency-Key": "r-2"})
        assert r.status_code == 202, r.text
    record("revoked key refused at once", requests=6, euros_lost=0)


async def test_a_key_of_one_institution_cannot_write_another_institutions_line(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    liguria = await issue_key(funding, "regione-liguria")
    spezia = await issue_key(funding, "comune-spezia")
    async with funding.client() as client:
        r = await client.post(
            "/v1/funding-events", json=commitment("LIG-1"), headers={**liguria, "Idempotency-Key": "l-1"}
        )
        assert r.status_code == 202, r.text
        before = await counts(database)
        line_before = (await client.get("/v1/funding-lines/LIG-1", headers=ADMIN_HEADERS)).json()

        attempts = [
            # Spezia revising, disbursing on, revoking Liguria's line.
            {"type": "revision", "line_id": "LIG-1", "committed_cents": 1, "reason": "x"},
            {"type": "disbursement", "line_id": "LIG-1", "amount_cents": 1, "reason": "x"},
            {"type": "revocation", "line_id": "LIG-1", "reason": "x"},
            # Spezia opening a line on Liguria's instrument.
            commitment("SP-ON-LIGURIA"),
        ]
        statuses = []
        for i, event in enumerate(attempts):
            r = await client.post("/v1/funding-events", json=event, headers={**spezia, "Idempotency-Key": f"s-{i}"})
            statuses.append(r.status_code)
            assert r.status_code in (403, 422), r.text
            assert set(r.json()) == {"error", "message", "field", "details"}
        assert statuses[:3] == [403, 403, 403]
        # A batch hiding one foreign event among Spezia's own: all refused, none written.
        r = await client.post(
            "/v1/funding-events/batch",
            headers={**spezia, "Idempotency-Key": "s-b"},
            json={"events": [commitment("SP-1", instrument_id="bilancio-comunale"), attempts[0]]},
        )
        assert r.status_code in (403, 422), r.text
        assert await counts(database) == before
        assert (await client.get("/v1/funding-lines/LIG-1", headers=ADMIN_HEADERS)).json() == line_before
        assert (await client.get("/v1/funding-lines/SP-1", headers=ADMIN_HEADERS)).status_code == 404
    record("key scoped to its institution", inputs=len(attempts) + 1, euros_lost=0)
