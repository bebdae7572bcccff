"""The funding service against a real PostgreSQL and broker: accepting, refusing and
replaying funding events over HTTP."""

import uuid

import pytest

from regia_shared.contracts import topics

from ..support import kafka
from ..support.funding_api import commitment, counts, issue_key
from ..support.services import ADMIN_HEADERS

pytestmark = pytest.mark.usefixtures("service_env")


async def test_commitment_then_revision_is_recorded_and_published(funding, database, broker):  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=key) as client:
        r = await client.post("/v1/funding-events", json=commitment(), headers={"Idempotency-Key": "a1"})
        assert r.status_code == 202, r.text
        assert r.json()["line_version"] == 1
        r = await client.post(
            "/v1/funding-events",
            headers={"Idempotency-Key": "a2"},
            json={"type": "revision", "line_id": "LIG-2027-1", "committed_cents": 40_000_00},
        )
        assert r.status_code == 202, r.text
        line = (await client.get("/v1/funding-lines/LIG-2027-1")).json()
    assert line["committed_cents"] == 40_000_00 and line["version"] == 2 and line["level"] == "REGIONE"
    assert [e["kind"] for e in line["history"]] == ["COMMITMENT", "REVISION"]
    assert [e["committed_delta_cents"] for e in line["history"]] == [100_000_00, -60_000_00]

    published = await kafka.read_all(broker.bootstrap_servers, topics.FUNDING, expect=2)
    assert [e.type for e in published] == ["FundingCommitted", "FundingRevised"]
    assert published[1].payload["committed_cents"] == 40_000_00
    assert published[1].payload["line_version"] == 2
    assert all(e.key == "miglio-blu" for e in published)


async def test_same_idempotency_key_twice_changes_nothing(funding, database):  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=key) as client:
        first = await client.post("/v1/funding-events", json=commitment(), headers={"Idempotency-Key": "k"})
        before = await counts(database)
        second = await client.post("/v1/funding-events", json=commitment(), headers={"Idempotency-Key": "k"})
        reused = await client.post("/v1/funding-events", json=commitment(amount=5), headers={"Idempotency-Key": "k"})
    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert await counts(database) == before == (1, 1, 1)
    assert reused.status_code == 422 and reused.json()["field"] == "Idempotency-Key"


async def test_another_institutions_line_is_forbidden(funding, database, broker):  # type: ignore[no-untyped-def]
    liguria = await issue_key(funding, "regione-liguria")
    comune = await issue_key(funding, "comune-spezia")
    async with funding.client(headers=liguria) as client:
        assert (
            await client.post("/v1/funding-events", json=commitment(), headers={"Idempotency-Key": "x"})
        ).status_code == 202
    before = await counts(database)
    async with funding.client(headers=comune) as client:
        r = await client.post(
            "/v1/funding-events",
            headers={"Idempotency-Key": "y"},
            json={"type": "revision", "line_id": "LIG-2027-1", "committed_cents": 0},
        )
        assert r.status_code == 403, r.text
        r = await client.post(
            "/v1/funding-events", headers={"Idempotency-Key": "z"}, json={"type": "revocation", "line_id": "LIG-2027-1"}
        )
        assert r.status_code == 403
        assert (await client.get("/v1/funding-lines/LIG-2027-1")).status_code == 404
    assert await counts(database) == before
    published = await kafka.read_records(broker.bootstrap_servers, topics.FUNDING, expect=2, timeout=3)
    assert len(published) == 1  # only the owner's commitment ever reached the topic


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer rgk_nope.wrong"},
        {"Authorization": "Basic abc"},
        {"Authorization": f"Bearer {uuid.uuid4()}"},
    ],
)
async def test_missing_or_wrong_key_is_401(funding, database, headers):  # type: ignore[no-untyped-def]
    async with funding.client() as client:
        r = await client.post("/v1/funding-events", json=commitment(), headers={"Idempotency-Key": "q", **headers})
    assert r.status_code == 401
    assert await counts(database) == (0, 0, 0)


async def test_revoked_key_is_401(funding, database):  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    key_id = key["Authorization"].split("rgk_")[1].split(".")[0]
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        assert (await admin.delete(f"/v1/keys/{key_id}")).status_code == 204
    async with funding.client(headers=key) as client:
        r = await client.post("/v1/funding-events", json=commitment(), headers={"Idempotency-Key": "r"})
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**commitment(), "committed_cents": 12.5}, "committed_cents"),
        ({**commitment(), "committed_cents": -100}, "committed_cents"),
        ({**commitment(), "committed_cents": "100"}, "committed_cents"),
        ({k: v for k, v in commitment().items() if k != "objective_id"}, "objective_id"),
        ({**commitment(), "type": "gift"}, "type"),
        ({**commitment(), "line_id": "a/b"}, "line_id"),
        ({**commitment(), "unexpected": 1}, "unexpected"),
    ],
)
async def test_malformed_body_is_422_naming_the_field(funding, database, broker, body, field):  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=key) as client:
        r = await client.post("/v1/funding-events", json=body, headers={"Idempotency-Key": "m"})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.json()
    assert await counts(database) == (0, 0, 0)


async def test_rule_violations_write_nothing(funding, database):  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=key) as client:
        r = await client.post(
            "/v1/funding-events", json={**commitment(), "fiscal_year": 1800}, headers={"Idempotency-Key": "y1"}
        )
        assert r.status_code == 422 and r.json()["field"] == "fiscal_year"
        r = await client.post(
            "/v1/funding-events",
            headers={"Idempotency-Key": "y2"},
            json={"type": "revision", "line_id": "nope", "committed_cents": 1},
        )
        assert r.status_code == 404
        assert (
            await client.post("/v1/funding-events", json=commitment(), headers={"Idempotency-Key": "y3"})
        ).status_code == 202
        r = await client.post("/v1/funding-events", json=commitment(), headers={"Idempotency-Key": "y4"})
        assert r.status_code == 409
        r = await client.post(
            "/v1/funding-events",
            headers={"Idempotency-Key": "y5"},
            json={"type": "revision", "line_id": "LIG-2027-1", "committed_cents": 1, "expected_version": 7},
        )
        assert r.status_code == 409 and r.json()["error"] == "stale_version"
    assert await counts(database) == (1, 1, 1)
