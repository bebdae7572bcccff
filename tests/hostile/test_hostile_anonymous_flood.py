"""Issue 22: requests no credential verifies (none sent, a wrong admin token, a forged key)
are throttled per client address, and a flood of them cannot grow the audit trail without
bound. Before, each one was answered 401 and written as a row of audit_log, as fast as a
client could send them.

Within REGIA_ANONYMOUS_BURST (refilled at REGIA_ANONYMOUS_RATE_PER_S) each refused anonymous
request is answered as before and audited in a row of its own; beyond it the address gets
429 with Retry-After, and those requests are counted in one audit row per address per
REGIA_AUDIT_ANONYMOUS_WINDOW_S (`repeats`, from `at` to `last_at`). Requests whose credential
verifies, and anonymous reads that are not refused (health, metrics), are untouched."""

import asyncio

import pytest

from regia_partners.app import create_app as partners_app

from ..support.figures import record
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")
BURST, FLOOD = 3, 60


async def test_an_anonymous_flood_is_throttled_and_audited_in_bounded_rows(  # type: ignore[no-untyped-def]
    service_env, database: Database, monkeypatch
) -> None:
    monkeypatch.setenv("REGIA_ANONYMOUS_BURST", str(BURST))
    monkeypatch.setenv("REGIA_ANONYMOUS_RATE_PER_S", "0.01")  # one more every 100 s
    monkeypatch.setenv("REGIA_AUDIT_ANONYMOUS_WINDOW_S", "3600")
    body = {"partner_id": "ente-y", "name": "Ente Y", "kind": "ASSOCIATION"}
    async with in_process("partners", partners_app) as partners, partners.client() as client:
        answers = [await client.post("/v1/partners", json=body) for _ in range(BURST)]
        assert [r.status_code for r in answers] == [401] * BURST
        flood = await asyncio.gather(
            *[
                client.post("/v1/partners", json=body, headers=headers)
                for headers in [{}, {"Authorization": "Bearer guessed"}, {"Authorization": "Bearer rgk_abc.forged"}]
                * (FLOOD // 3)
            ]
        )
        assert {r.status_code for r in flood} == {429}, {r.status_code for r in flood}
        for r in flood:
            assert r.json()["error"] == "rate_limited", r.json()
            assert set(r.json()) == {"error", "message", "field", "details"}
            assert r.headers["Retry-After"].isdigit() and 1 <= int(r.headers["Retry-After"]) <= 100
        # A read with a credential that does not verify is throttled too (and not audited).
        assert (await client.get("/v1/audit", headers={"Authorization": "Bearer guessed"})).status_code == 429
        # Whoever's credential verifies is served, from the same address; anonymous reads
        # that are not refused are untouched.
        assert (await client.get("/health/live")).status_code == 200
        created = await client.post("/v1/partners", json=body, headers=ADMIN_HEADERS)
        assert created.status_code == 201, created.text

        async def trail() -> list[dict] | None:
            r = await client.get("/v1/audit", params={"actor": "anonymous", "limit": 500}, headers=ADMIN_HEADERS)
            rows = r.json()["items"]
            return rows if sum(row["repeats"] for row in rows) >= BURST + FLOOD else None

        rows = await eventually(trail, what="the anonymous requests audited")
    single = [r for r in rows if r["repeats"] == 1 and r["status"] == 401]
    tallied = [r for r in rows if r["status"] == 429]
    assert len(single) == BURST, rows
    assert 1 <= len(tallied) <= 2, rows  # 2 only when the flood straddles the top of an hour
    assert sum(r["repeats"] for r in tallied) == FLOOD, rows
    for row in tallied:
        assert row["client_address"] == "127.0.0.1" and row["actor"] == "anonymous", row
        assert row["path"] == "/v1/partners" and row["method"] == "POST", row
        assert row["route"] in ("/v1/partners", "unrouted"), row  # "unrouted": refused before routing
        assert row["last_at"] >= row["at"], row
    in_table = await database.fetchval("partners", "SELECT count(*) FROM audit_log WHERE actor = 'anonymous'")
    assert in_table == len(rows) <= BURST + 2
    record("hostile http: anonymous flood throttled, audit bounded", inputs=3, requests=BURST + FLOOD + 3, euros_lost=0)
