"""Issue 22: single requests and batches are two Idempotency-Key spaces. One key string
used for `POST /v1/funding-events` and for `/v1/funding-events/batch` names two independent
requests: before, the batch was refused as a reuse of the key ("already used for a
different request"), or, when it held the very command of the single request, answered
with the single request's body as a replay (the wrong shape, and nothing recorded). Keys
recorded before the upgrade stay valid, each in the space its answer shows."""

import json
from importlib import resources

import pytest

from regia_shared import db
from regia_shared.db import create_pool, migrate

from ..support.figures import record
from ..support.funding_api import commitment, counts, issue_key
from ..support.infra import Database

pytestmark = pytest.mark.usefixtures("service_env")


async def test_a_key_used_for_a_single_event_and_for_a_batch_names_two_requests(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    liguria = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=liguria) as client:
        single = await client.post("/v1/funding-events", json=commitment("S-1"), headers={"Idempotency-Key": "k"})
        assert single.status_code == 202, single.text
        batch = await client.post(
            "/v1/funding-events/batch", json={"events": [commitment("B-1")]}, headers={"Idempotency-Key": "k"}
        )
        assert batch.status_code == 202, batch.text
        assert "Idempotent-Replayed" not in batch.headers
        assert [r["line_id"] for r in batch.json()["results"]] == ["B-1"]
        # Each is replayed in its own space, with its own answer.
        again = await client.post("/v1/funding-events", json=commitment("S-1"), headers={"Idempotency-Key": "k"})
        assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == single.json()
        again = await client.post(
            "/v1/funding-events/batch", json={"events": [commitment("B-1")]}, headers={"Idempotency-Key": "k"}
        )
        assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == batch.json()

        # The very same command under the same key, once alone and once as a batch: the batch
        # is a request of its own (here refused, the line being open already), never the
        # single request's answer replayed in the wrong shape.
        r = await client.post("/v1/funding-events", json=commitment("S-2"), headers={"Idempotency-Key": "same"})
        assert r.status_code == 202, r.text
        r = await client.post(
            "/v1/funding-events/batch", json={"events": [commitment("S-2")]}, headers={"Idempotency-Key": "same"}
        )
        assert "Idempotent-Replayed" not in r.headers, r.text
        assert r.status_code in (409, 422) and r.json()["field"] != "Idempotency-Key", r.text
        # Within one space a key still names one request.
        r = await client.post(
            "/v1/funding-events/batch", json={"events": [commitment("B-9")]}, headers={"Idempotency-Key": "k"}
        )
        assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key", r.text
    assert await counts(database) == (3, 3, 3)
    spaces = await database.fetch(
        "funding", "SELECT idempotency_key, space FROM idempotency_keys ORDER BY idempotency_key, space"
    )
    assert [tuple(r) for r in spaces] == [("k", "batch"), ("k", "single"), ("same", "single")]
    record("hostile http: one Idempotency-Key for a single request and a batch", inputs=7, requests=7, euros_lost=0)


async def test_keys_recorded_before_the_upgrade_stay_valid_in_the_space_their_answer_shows(
    database: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    folder = resources.files("regia_funding").joinpath("migrations")
    files = sorted((f.name, f.read_text()) for f in folder.iterdir() if f.name.endswith(".sql"))
    before = [f for f in files if f[0] < "0003"]
    assert before and len(before) < len(files)
    real = db._migration_files
    monkeypatch.setattr(db, "_migration_files", lambda p: before if p == "regia_funding" else real(p))
    pool = await create_pool(database.dsn, "funding_old")
    try:
        await migrate(pool, "funding_old", "regia_funding")  # the release before
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO idempotency_keys (institution_id, idempotency_key, request_sha256, status_code,"
                " response) VALUES ('lig', 'one', 'a', 202, $1::jsonb), ('lig', 'many', 'b', 202, $2::jsonb)",
                json.dumps({"event_id": "e1", "line_id": "L1"}),
                json.dumps({"results": [{"line_id": "L2"}]}),
            )
        monkeypatch.setattr(db, "_migration_files", real)
        assert [m for m in await migrate(pool, "funding_old", "regia_funding") if m >= "regia_funding/0003"]
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT idempotency_key, space, request_sha256 FROM idempotency_keys ORDER BY idempotency_key"
            )
            assert [tuple(r) for r in rows] == [("many", "batch", "b"), ("one", "single", "a")]
            # The same key string may now hold one record per space.
            await conn.execute(
                "INSERT INTO idempotency_keys (institution_id, space, idempotency_key, request_sha256, status_code,"
                " response) VALUES ('lig', 'batch', 'one', 'c', 202, '{}'::jsonb)"
            )
    finally:
        await pool.close()
