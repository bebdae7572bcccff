"""Issue 20, who and why on every write: a change of money is audited in its own transaction,
naming the key or person, the channel (http, kafka, import) and the reason; a write that
rolls back leaves no row saying it succeeded; a write without a reason is refused and
changes nothing; and audit_log, like the ledger, refuses UPDATE, DELETE and TRUNCATE."""

import json
from urllib.parse import quote

import asyncpg
import pytest

from regia_shared.contracts import topics

from ..support import kafka
from ..support.funding_api import commitment, counts, issue_key
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, ADMIN_TOKEN
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")
CUT = "Taglio del 40 %: delibera di Giunta n. 12, più urgenze altrove"


def key_id(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer rgk_").split(".")[0]


def without_reason(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "X-Regia-Reason"}


async def rows_of(database: Database, request_id: str, column: str = "request_id") -> list[dict]:
    found = await database.fetch(
        "funding",
        "SELECT actor, channel, reason, status, subject, effect::text AS effect FROM audit_log"
        f" WHERE {column} = $1 ORDER BY id",
        request_id,
    )
    return [{**dict(r), "effect": json.loads(r["effect"]) if r["effect"] else None} for r in found]


async def test_a_cut_through_http_is_audited_with_the_write_and_not_when_it_rolls_back(
    funding, database: Database
) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=without_reason(key)) as client:
        r = await client.post("/v1/funding-events", json=commitment("AUD-1"), headers={"Idempotency-Key": "a-1"})
        assert r.status_code == 202, r.text
        cut = {"type": "revision", "line_id": "AUD-1", "committed_cents": 60_000_00}
        # The reason in the header, percent-encoded UTF-8 (accents and all).
        r = await client.post(
            "/v1/funding-events", json=cut, headers={"Idempotency-Key": "a-2", "X-Regia-Reason": quote(CUT)}
        )
        assert r.status_code == 202, r.text
        entry_id, event_id = r.json()["entry_id"], r.json()["event_id"]
        rows = await rows_of(database, r.headers["X-Request-Id"])
        # One row, the one written in the write's transaction (the middleware wrote none).
        assert len(rows) == 1, rows
        (row,) = rows
        assert (row["actor"], row["channel"], row["reason"], row["status"]) == (f"key:{key_id(key)}", "http", CUT, 202)
        assert row["subject"] == "line:AUD-1"
        assert row["effect"]["entry_ids"] == [entry_id] and row["effect"]["event_ids"] == [event_id]
        listed = (await client.get("/v1/audit", params={"channel": "http"}, headers=ADMIN_HEADERS)).json()["items"]
        assert listed[0]["reason"] == CUT and listed[0]["channel"] == "http" and listed[0]["actor_name"] is None

        # The same cut, failing after its audit row was inserted (the Idempotency-Key record
        # is written last in the transaction): it rolls back, audit row and all.
        conn = await database.connect("funding")
        try:
            await conn.execute(
                "CREATE FUNCTION fail_here() RETURNS trigger LANGUAGE plpgsql AS $$"
                " BEGIN RAISE EXCEPTION 'injected failure'; END $$;"
                " CREATE TRIGGER fail_keys BEFORE INSERT ON idempotency_keys"
                " FOR EACH STATEMENT EXECUTE FUNCTION fail_here();"
            )
            before = await counts(database)
            cut2 = {**cut, "committed_cents": 30_000_00}
            failed = await client.post(
                "/v1/funding-events",
                json=cut2,
                headers={"Idempotency-Key": "a-3", "X-Regia-Reason": quote(CUT), "X-Correlation-Id": "failing-cut"},
            )
            assert failed.status_code == 500
            assert await counts(database) == before
        finally:
            await conn.execute("DROP TRIGGER fail_keys ON idempotency_keys; DROP FUNCTION fail_here()")
            await conn.close()

        async def failed_row() -> list[dict] | None:
            # A 500 is answered outside the audit middleware, without X-Request-Id: found by its
            # correlation id, which the middleware's row keeps.
            found = await rows_of(database, "failing-cut", "correlation_id")
            return found or None

        rows = await eventually(failed_row, what="the failed request's row")
        # Only the middleware's row of a failure: no row of a write that never happened.
        assert [(r["status"], r["effect"], r["channel"], r["reason"]) for r in rows] == [(500, None, "http", CUT)]
        line = (await client.get("/v1/funding-lines/AUD-1")).json()
        assert line["committed_cents"] == 60_000_00


async def test_a_write_without_a_reason_is_refused_and_changes_nothing(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=without_reason(key)) as client:
        assert (
            await client.post("/v1/funding-events", json=commitment("AUD-2"), headers={"Idempotency-Key": "r-1"})
        ).status_code == 202
        before = await counts(database)
        cut = {"type": "revision", "line_id": "AUD-2", "committed_cents": 1_00}
        for i, header in enumerate([None, "", "%20%20", "ab", "%FF%FE", "x" * 501]):
            headers = {"Idempotency-Key": f"r-2-{i}"}
            if header is not None:
                headers["X-Regia-Reason"] = header
            r = await client.post("/v1/funding-events", json=cut, headers=headers)
            assert r.status_code == 422, (header, r.text)
            assert (r.json()["error"], r.json()["field"]) == ("reason_required", "X-Regia-Reason")
            rows = await eventually(
                lambda r=r: _some(rows_of(database, r.headers["X-Request-Id"])), what="the refusal's row"
            )
            assert [(x["status"], x["effect"]) for x in rows] == [(422, None)]
        # A batch: every event needs its own reason when the request gives none.
        batch = {"events": [{**cut, "reason": "delibera 3/2027"}, cut]}
        r = await client.post("/v1/funding-events/batch", json=batch, headers={"Idempotency-Key": "r-3"})
        assert r.status_code == 422 and r.json()["error"] == "reason_required"
        assert await counts(database) == before
        # An admin's plan edit without one is refused too, by every service alike.
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        r = await client.post(
            "/v1/instruments",
            json={"instrument_id": "fondo-x", "institution_id": "regione-liguria", "name": "Fondo X"},
            headers=admin,
        )
        assert r.status_code == 422 and r.json()["field"] == "X-Regia-Reason"
        assert (await client.get("/v1/instruments", headers=admin)).json()[-1]["instrument_id"] != "fondo-x"


async def _some(rows: object) -> list[dict] | None:
    found = await rows  # type: ignore[misc]
    return found or None


async def test_a_cut_through_kafka_is_audited_with_channel_kafka(funding, database: Database, broker) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    auth = ("authorization", key["Authorization"].encode())
    cut = {"type": "revision", "line_id": "AUD-K", "committed_cents": 10_000_00}
    sent = [
        (json.dumps(commitment("AUD-K")).encode(), [auth, ("idempotency-key", b"k-1")]),
        # Neither the command nor the message says why: rejected, nothing written.
        (json.dumps(cut).encode(), [auth, ("idempotency-key", b"k-2")]),
        (json.dumps(cut).encode(), [auth, ("idempotency-key", b"k-3"), ("x-regia-reason", CUT.encode())]),
    ]
    await kafka.publish_raw(broker.bootstrap_servers, topics.FUNDING_INBOUND, sent, key=b"AUD-K")
    (rejection,) = await kafka.read_records(broker.bootstrap_servers, topics.FUNDING_INBOUND_REJECTED, expect=1)
    refused = json.loads(rejection.value)
    assert (refused["error"], refused["field"]) == ("reason_required", "x-regia-reason")

    async def audited() -> list[dict] | None:
        found = await rows_of(database, "k-3")
        return found or None

    (row,) = await eventually(audited, what="the Kafka cut's audit row")
    assert (row["actor"], row["channel"], row["reason"], row["subject"]) == (
        f"key:{key_id(key)}",
        "kafka",
        CUT,
        "line:AUD-K",
    )
    entry = await database.fetchval(
        "funding", "SELECT entry_id FROM ledger_entries WHERE line_id = 'AUD-K' ORDER BY entry_id DESC LIMIT 1"
    )
    assert row["effect"]["entry_ids"] == [entry]
    # The commitment carried its own reason: that is the row's.
    (first,) = await rows_of(database, "k-1")
    assert first["reason"] == commitment("AUD-K")["reason"]
    assert await rows_of(database, "k-2") == []


async def test_the_bulk_import_is_one_row_with_channel_import_and_counts(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    body = {
        "channel": "import:opencoesione",
        "run": {"id": "run-audit", "source": "progetti.csv", "through": 2},
        "submissions": [
            {"institution_id": "regione-liguria", "idempotency_key": f"b-{i}", "events": [commitment(f"AUD-B{i}")]}
            for i in range(3)
        ],
    }
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post("/v1/imports/funding-events/bulk", json=body)
        assert r.status_code == 200, r.text
        rows = await rows_of(database, r.headers["X-Request-Id"])
    assert len(rows) == 1, rows
    (row,) = rows
    assert (row["actor"], row["channel"], row["subject"]) == ("admin", "import", "import-run:run-audit")
    assert row["reason"] == "Prova automatica: verifica di integrazione"
    assert row["effect"] == {"submissions": 3, "accepted": 3, "replayed": 0, "refused": 0, "events": 3}


async def test_audit_log_is_append_only_but_a_tally_still_counts(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        assert (await admin.post("/v1/instruments", json={"instrument_id": "x"})).status_code == 422

    async def some() -> int | None:
        return await database.fetchval("funding", "SELECT max(id) FROM audit_log")  # type: ignore[return-value]

    newest = await eventually(some, what="an audit row")
    conn = await database.connect("funding")
    try:
        for sql in [
            "UPDATE audit_log SET actor = 'someone-else' WHERE id = $1",
            "UPDATE audit_log SET reason = 'rewritten' WHERE id = $1",
            "DELETE FROM audit_log WHERE id = $1",
        ]:
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute(sql, newest)
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("TRUNCATE audit_log")
        # A tally row (anonymous floods) may only have its count and last time grow.
        tally = await conn.fetchval(
            "INSERT INTO audit_log (service, method, route, path, status, actor, request_id, tally_key)"
            " VALUES ('funding', 'POST', 'unrouted', '/x', 429, 'anonymous', 'r', 'w|1.2.3.4') RETURNING id"
        )
        await conn.execute("UPDATE audit_log SET repeats = repeats + 4, last_at = now() WHERE id = $1", tally)
        assert await conn.fetchval("SELECT repeats FROM audit_log WHERE id = $1", tally) == 5
        for sql in [
            "UPDATE audit_log SET path = '/y' WHERE id = $1",
            "UPDATE audit_log SET repeats = 1 WHERE id = $1",
            "DELETE FROM audit_log WHERE id = $1",
        ]:
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute(sql, tally)
    finally:
        await conn.close()
