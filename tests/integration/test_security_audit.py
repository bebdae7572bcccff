"""Issue 7, audit trail: every write request, refused ones included, is a row of the
service's `audit_log` with who (admin, key:<id>, anonymous; never a secret) and from where
(X-Forwarded-For believed only from REGIA_TRUSTED_PROXIES), read by admins at /v1/audit;
and a failing audit insert never fails the request."""

from datetime import UTC, datetime

import httpx
import pytest

from regia_partners.app import create_app as partners_app

from ..support.figures import record
from ..support.funding_api import commitment, issue_key, running_funding
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, ADMIN_TOKEN, in_process
from ..support.wait import eventually
from .test_notifier_webhooks import _capture_structlog

pytestmark = pytest.mark.usefixtures("service_env")


async def audit(client: httpx.AsyncClient, count: int, anonymous: int = 0, **query: str) -> list[dict]:
    """At least `count` audit rows for the query, `anonymous` of them by no verified actor."""

    async def probe() -> list[dict] | None:
        r = await client.get("/v1/audit", params=query, headers=ADMIN_HEADERS)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        unverified = sum(1 for i in items if i["actor"] == "anonymous")
        return items if len(items) >= count and unverified >= anonymous else None

    return await eventually(probe, what=f"{count} audit rows ({anonymous} anonymous) for {query}")


async def test_every_write_is_audited_with_its_actor_and_address(
    service_env, broker, database: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    since = datetime.now(UTC).isoformat()
    # Partners trusts no proxy on loopback: a client's own X-Forwarded-For is ignored.
    monkeypatch.setenv("REGIA_TRUSTED_PROXIES", "10.0.0.0/8")
    async with in_process("partners", partners_app) as partners, partners.client() as client:
        r = await client.post(
            "/v1/partners",
            headers={**ADMIN_HEADERS, "X-Forwarded-For": "198.51.100.9"},
            json={"partner_id": "cantiere-x", "name": "Cantiere X", "kind": "ENTERPRISE"},
        )
        assert r.status_code == 201, r.text
        request_id = r.headers["X-Request-Id"]
        unauthenticated = await client.post("/v1/partners", json={"partner_id": "ente-y"})
        assert unauthenticated.status_code == 401
        (refused, created) = (await audit(client, 2))[:2]
    assert created["actor"] == "admin" and created["status"] == 201
    assert (created["method"], created["route"], created["path"]) == ("POST", "/v1/partners", "/v1/partners")
    assert created["client_address"] == "127.0.0.1"  # the spoofed header was not believed
    assert created["request_id"] == request_id and created["service"] == "partners"
    assert refused["actor"] == "anonymous" and refused["status"] == 401
    assert refused["claimed_actor"] is None

    # Funding sits behind a trusted proxy (loopback): the nearest untrusted hop is the caller.
    monkeypatch.setenv("REGIA_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    async for funding in running_funding(broker.bootstrap_servers):
        liguria = await issue_key(funding, "regione-liguria")
        key_id = liguria["Authorization"].removeprefix("Bearer rgk_").split(".")[0]
        spezia = await issue_key(funding, "comune-spezia")
        spezia_id = spezia["Authorization"].removeprefix("Bearer rgk_").split(".")[0]
        async with funding.client() as client:
            r = await client.post(
                "/v1/funding-events",
                json=commitment("LIG-1"),
                headers={
                    **liguria,
                    "Idempotency-Key": "a-1",
                    "X-Correlation-Id": "dgr-1",
                    "X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.1.2.3",
                },
            )
            assert r.status_code == 202, r.text
            # Spezia's key writing Liguria's line: refused, and audited as Spezia's key.
            r = await client.post(
                "/v1/funding-events",
                headers={**spezia, "Idempotency-Key": "a-2"},
                json={"type": "revision", "line_id": "LIG-1", "committed_cents": 1, "reason": "not mine"},
            )
            assert r.status_code == 403, r.text
            # A key that does not verify: anonymous, with only the key id it claimed.
            forged = f"Bearer rgk_{key_id}.not-the-secret"
            r = await client.post(
                "/v1/funding-events",
                json=commitment("LIG-2"),
                headers={"Authorization": forged, "Idempotency-Key": "a-3"},
            )
            assert r.status_code == 401
            # A wrong admin token on an admin route.
            r = await client.delete(f"/v1/keys/{key_id}", headers={"Authorization": "Bearer guessed"})
            assert r.status_code == 401
            # Reads are not audited, and the trail itself is admin-only.
            assert (await client.get("/v1/funding-lines/LIG-1", headers=ADMIN_HEADERS)).status_code == 200
            assert (await client.get("/v1/audit")).status_code == 401
            assert (await client.get("/v1/audit", headers=liguria)).status_code == 401

            # A refused request's row is written once its answer is sent (audit.py, `_record`),
            # apart from the writes' own rows, so it may land a moment after them: wait for both.
            rows = await audit(client, 4, since=since, anonymous=2)
            by_key = await audit(client, 1, actor=f"key:{key_id}")
            by_spezia = await audit(client, 1, actor=f"key:{spezia_id}")
            latest = await audit(client, 1, limit="1")
            # Paged newest first: two pages of two are the four newest rows, in order.
            four = (await client.get("/v1/audit", headers=ADMIN_HEADERS, params={"limit": 4})).json()["items"]
            first = (await client.get("/v1/audit", headers=ADMIN_HEADERS, params={"limit": 2})).json()
            cursor = first["next_cursor"]
            second = (
                await client.get("/v1/audit", headers=ADMIN_HEADERS, params={"limit": 2, "cursor": cursor})
            ).json()
            assert (
                await client.get("/v1/audit", headers=ADMIN_HEADERS, params={"since": "2999-01-01T00:00:00Z"})
            ).json() == {"items": [], "next_cursor": None}

    accepted = next(r for r in rows if r["request_id"] and r["correlation_id"] == "dgr-1")
    assert accepted["actor"] == f"key:{key_id}" and accepted["status"] == 202
    assert accepted["client_address"] == "203.0.113.7"
    assert accepted["route"] == "/v1/funding-events" and accepted["service"] == "funding"
    assert [r["status"] for r in by_key] == [202]
    assert [(r["status"], r["route"]) for r in by_spezia] == [(403, "/v1/funding-events")]
    unverified = [r for r in rows if r["actor"] == "anonymous"]
    assert sorted((r["status"], r["route"], r["claimed_actor"]) for r in unverified) == [
        (401, "/v1/funding-events", f"key:{key_id}"),
        (401, "/v1/keys/{key_id}", "unverified-bearer"),
    ]
    assert len(latest) == 1 and latest[0]["id"] == max(r["id"] for r in rows)
    assert [r["id"] for r in first["items"] + second["items"]] == [r["id"] for r in four]
    assert len(four) == 4 and [r["id"] for r in four] == sorted((r["id"] for r in four), reverse=True)
    assert all(r["method"] != "GET" for r in rows)
    # Issuing the keys was audited as the admin's, from loopback (no X-Forwarded-For sent).
    issued = [r for r in rows if r["route"] == "/v1/institutions/{institution_id}/keys"]
    assert len(issued) == 2 and all(r["actor"] == "admin" and r["client_address"] == "127.0.0.1" for r in issued)

    # No secret reached the trail: neither a key, its secret half, nor the admin token.
    dump = "\n".join(str(tuple(r)) for r in await database.fetch("funding", "SELECT * FROM audit_log"))
    dump += "\n".join(str(tuple(r)) for r in await database.fetch("partners", "SELECT * FROM audit_log"))
    for secret in (
        liguria["Authorization"].split(".", 1)[1],
        spezia["Authorization"].split(".", 1)[1],
        ADMIN_TOKEN,
        "not-the-secret",
        "guessed",
    ):
        assert secret not in dump
    record("audit trail", inputs=7, requests=9)


async def test_a_failing_audit_insert_never_fails_the_request(
    service_env, broker, database: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The middleware's row (a write with no row of its own) is best-effort; a change of money
    is audited in its own transaction (issue 20), so without its row it is not made at all."""
    # Not capfd: structlog loggers cached by earlier tests keep the stderr they were made with.
    logged = _capture_structlog(monkeypatch)
    async for funding in running_funding(broker.bootstrap_servers):
        liguria = await issue_key(funding, "regione-liguria")
        await database.fetchval("funding", "ALTER TABLE audit_log RENAME TO audit_log_away")
        async with funding.client(headers=ADMIN_HEADERS) as admin:
            r = await admin.post("/v1/institutions/comune-spezia/keys", json={"label": "spare"})
            assert r.status_code == 201, r.text

            async def reported() -> bool:  # the insert runs after the response
                return any("audit record not written" in line for line in logged)

            await eventually(reported, what="the failed audit insert logged")
        async with funding.client(headers=liguria) as client:
            r = await client.post("/v1/funding-events", json=commitment("LIG-1"), headers={"Idempotency-Key": "k-1"})
            assert r.status_code == 500, r.text
        await database.fetchval("funding", "ALTER TABLE audit_log_away RENAME TO audit_log")
    assert await database.fetchval("funding", "SELECT count(*) FROM funding_lines") == 0
    record("audit insert failure", faults=1, requests=1, euros_lost=0)
