"""`GET /v1/ledger/export` on the funding service against a real PostgreSQL: an admin
exports everything, an institution only its own lines, filters narrow it, and the body is
streamed. The app is the service's own, as its composition root wires it."""

import csv
import io
import json
import uuid

import pytest

from regia_funding.app import create_app

from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, REASON_HEADERS, RunningService, in_process

pytestmark = pytest.mark.usefixtures("service_env")

LINES = [  # line, institution, instrument, level, objective, year, committed, disbursed, version
    ("LIG-2027-1", "regione-liguria", "por-fesr-liguria", "REGIONE", "miglio-blu", 2027, 300_000_000, 50_000_000, 3),
    ("COM-2027-1", "comune-spezia", "bilancio-comunale", "COMUNE", "miglio-blu", 2027, 50_000_000, 0, 1),
    ("LIG-2028-1", "regione-liguria", "por-fesr-liguria", "REGIONE", "mare", 2028, 20_000_000, 0, 1),
]
ENTRIES = [  # line, version, kind, committed delta, disbursed delta, committed after, disbursed after, reason
    ("LIG-2027-1", 1, "COMMITMENT", 450_000_000, 0, 450_000_000, 0, "DGR 1/2026: cofinanziamento Miglio Blu"),
    ("LIG-2027-1", 2, "REVISION", -150_000_000, 0, 300_000_000, 0, "Assestamento, variazione n. 3"),
    ("LIG-2027-1", 3, "DISBURSEMENT", 0, 50_000_000, 300_000_000, 50_000_000, "Primo SAL"),
    ("COM-2027-1", 1, "COMMITMENT", 50_000_000, 0, 50_000_000, 0, None),
    ("LIG-2028-1", 1, "COMMITMENT", 20_000_000, 0, 20_000_000, 0, "Interreg Marittimo"),
]


async def seed(database: Database, entries: list[tuple] = ENTRIES) -> None:
    conn = await database.connect("funding")
    try:
        await conn.executemany(
            "INSERT INTO institutions (institution_id, name, level) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            [("regione-liguria", "Regione Liguria", "REGIONE"), ("comune-spezia", "Comune della Spezia", "COMUNE")],
        )
        await conn.executemany(
            "INSERT INTO funding_lines (line_id, institution_id, instrument_id, level, objective_id, fiscal_year,"
            " committed_cents, disbursed_cents, version, status) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'ACTIVE')"
            " ON CONFLICT DO NOTHING",
            LINES,
        )
        await conn.executemany(
            "INSERT INTO ledger_entries (line_id, line_version, kind, delta_cents, disbursed_delta_cents,"
            " committed_after, disbursed_after, reason, pushed_by, channel, event_id, correlation_id)"
            " SELECT $1, $2, $3, $4, $5, $6, $7, $8, l.institution_id, 'http', $9, 'test'"
            " FROM funding_lines l WHERE l.line_id = $1",
            [(*e, uuid.uuid4()) for e in entries],
        )
    finally:
        await conn.close()


@pytest.fixture
async def exporting(database: Database, broker):  # type: ignore[no-untyped-def]
    async with in_process("funding", create_app) as service:
        await seed(database)
        yield service


async def key_of(service: RunningService, institution: str) -> dict[str, str]:
    async with service.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post(f"/v1/institutions/{institution}/keys", json={"label": "export test"})
        assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['key']}", **REASON_HEADERS}


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def test_an_admin_exports_every_entry_as_csv(exporting) -> None:  # type: ignore[no-untyped-def]
    async with exporting.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.get("/v1/ledger/export")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="regia-ledger.csv"'
    exported = rows(r.text)
    assert [(e["line_id"], e["kind"]) for e in exported] == [(e[0], e[2]) for e in ENTRIES]
    first, _, paid, *_ = exported
    assert (first["institution_name"], first["instrument_id"], first["level"]) == (
        "Regione Liguria",
        "por-fesr-liguria",
        "REGIONE",
    )
    assert (paid["committed_delta_cents"], paid["disbursed_delta_cents"], paid["disbursed_delta_eur"]) == (
        "0",
        "50000000",
        "500000.00",
    )


async def test_iati_transactions_filtered_by_objective_and_year(exporting) -> None:  # type: ignore[no-untyped-def]
    async with exporting.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.get(
            "/v1/ledger/export", params={"format": "iati", "objective_id": "miglio-blu", "fiscal_year": 2027}
        )
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == 'attachment; filename="regia-ledger-miglio-blu-2027.json"'
    document = r.json()
    assert document["filters"] == {"objective_id": "miglio-blu", "fiscal_year": 2027}
    transactions = document["transactions"]
    assert [(t["transaction-type"]["code"], t["value"]["value"]) for t in transactions] == [
        ("2", "4500000.00"),
        ("2", "-1500000.00"),
        ("3", "500000.00"),
        ("2", "500000.00"),
    ]
    assert {t["receiver-org"]["receiver-activity-id"] for t in transactions} == {"miglio-blu"}
    assert transactions[3]["provider-org"]["ref"] == "comune-spezia" and "description" not in transactions[3]


async def test_an_institution_exports_only_its_own_lines(exporting) -> None:  # type: ignore[no-untyped-def]
    comune = await key_of(exporting, "comune-spezia")
    async with exporting.client(headers=comune) as client:
        own = await client.get("/v1/ledger/export")
        named = await client.get("/v1/ledger/export", params={"institution_id": "comune-spezia"})
        other = await client.get("/v1/ledger/export", params={"institution_id": "regione-liguria"})
    assert [e["line_id"] for e in rows(own.text)] == ["COM-2027-1"]
    assert own.headers["content-disposition"] == 'attachment; filename="regia-ledger-comune-spezia.csv"'
    assert named.text == own.text
    assert other.status_code == 403 and "only its own entries" in other.json()["message"]


async def test_credentials_and_parameters_are_checked(exporting) -> None:  # type: ignore[no-untyped-def]
    async with exporting.client() as anonymous:
        assert (await anonymous.get("/v1/ledger/export")).status_code == 401
        bad_key = {"Authorization": "Bearer rgk_nokey.secret"}
        assert (await anonymous.get("/v1/ledger/export", headers=bad_key)).status_code == 401
    async with exporting.client(headers=ADMIN_HEADERS) as admin:
        wrong_format = await admin.get("/v1/ledger/export", params={"format": "xml"})
        wrong_year = await admin.get("/v1/ledger/export", params={"fiscal_year": "duemila"})
    assert wrong_format.status_code == 422 and wrong_format.json()["field"] == "query.format"
    assert wrong_year.status_code == 422


async def test_a_large_ledger_is_streamed(exporting, database: Database) -> None:  # type: ignore[no-untyped-def]
    many = [
        ("LIG-2028-1", version, "REVISION", 1, 0, 20_000_000 + version, 0, f"variazione {version}")
        for version in range(2, 5002)
    ]
    await seed(database, many)
    async with exporting.client(headers=ADMIN_HEADERS) as admin:
        async with admin.stream("GET", "/v1/ledger/export", params={"format": "iati"}) as r:
            assert r.status_code == 200
            assert r.headers.get("transfer-encoding") == "chunked" and "content-length" not in r.headers
            body = b"".join([chunk async for chunk in r.aiter_bytes()])
    transactions = json.loads(body)["transactions"]
    assert len(transactions) == len(ENTRIES) + 5000
    assert [t["regia:ledger"]["entry-id"] for t in transactions] == sorted(
        t["regia:ledger"]["entry-id"] for t in transactions
    )
