"""The source's project code and status on a funding line, and the dates of its acts (issue
19), through the funding service against a real PostgreSQL and broker: a malformed one is a
422 naming it that records nothing; given, they are stored (on the line, on the entry),
shown by the line and its entries, listed and found with `source_ref=`, carried by the
events and exported; and a request sent again without them replays."""

import csv
import io
import json
from typing import Any

import pytest

from ..support.funding_api import commitment, counts, issue_key
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS

pytestmark = pytest.mark.usefixtures("service_env")

CUP = "D41B19000120007"
REF = "1LIG2027-FESR-0042"


async def send(client: Any, body: dict, key: str) -> dict:
    r = await client.post("/v1/funding-events", json=body, headers={"Idempotency-Key": key})
    assert r.status_code == 202, r.text
    return r.json()


@pytest.mark.parametrize(
    "body, field",
    [
        ({**commitment("BAD"), "act_date": "2027-02-30"}, "act_date"),
        ({**commitment("BAD"), "act_date": "1989-12-31"}, "act_date"),
        ({**commitment("BAD"), "act_date": "2027-03-01T09:00:00Z"}, "act_date"),
        ({**commitment("BAD"), "source_ref": "R" * 101}, "source_ref"),
        ({**commitment("BAD"), "source_ref": "1LIG\u0000042"}, "source_ref"),
        ({**commitment("BAD"), "source_status": "In corso\r\n"}, "source_status"),
        ({"type": "disbursement", "line_id": "BAD", "amount_cents": 1, "act_date": "30/06/2027"}, "act_date"),
    ],
)
async def test_a_malformed_identifier_or_date_is_a_422_naming_it_and_records_nothing(
    funding, database: Database, body: dict, field: str
) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    before = await counts(database)
    async with funding.client(headers=key) as client:
        r = await client.post("/v1/funding-events", json=body, headers={"Idempotency-Key": "bad-1"})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and field in r.json()["message"], r.json()
    assert await counts(database) == before


async def test_identifiers_and_act_dates_are_stored_shown_listed_filtered_carried_and_exported(
    funding, database: Database
) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=key) as client:
        ids = {"cup": CUP, "source_ref": REF, "source_status": "In corso", "act_date": "2027-03-01"}
        await send(client, {**commitment("OC-1", 700_00), **ids}, "oc-1")
        await send(client, {**commitment("OC-2", 300_00), "source_ref": REF}, "oc-2")  # the same project
        await send(client, commitment("PLAIN", 100_00), "plain")
        paid = {"type": "disbursement", "line_id": "OC-1", "amount_cents": 200_00, "act_date": "2027-06-30"}
        await send(client, paid, "oc-1-paid")
        await send(client, {"type": "revision", "line_id": "OC-1", "committed_cents": 650_00}, "oc-1-cut")
        # The same request again is a replay, not a second payment; without the date, under
        # the same key, it is another request, refused as a reuse of the key.
        replayed = await client.post("/v1/funding-events", json=paid, headers={"Idempotency-Key": "oc-1-paid"})
        assert replayed.status_code == 202 and replayed.headers.get("Idempotent-Replayed") == "true", replayed.headers
        undated = {k: v for k, v in paid.items() if k != "act_date"}
        reused = await client.post("/v1/funding-events", json=undated, headers={"Idempotency-Key": "oc-1-paid"})
        assert (reused.status_code, reused.json()["error"]) == (422, "idempotency_key_reused"), reused.text

        line = (await client.get("/v1/funding-lines/OC-1")).json()
        plain = (await client.get("/v1/funding-lines/PLAIN")).json()
        found = (await client.get("/v1/funding-lines", params={"source_ref": REF})).json()
        none = (await client.get("/v1/funding-lines", params={"source_ref": "NESSUNO"})).json()
        bad = await client.get("/v1/funding-lines", params={"source_ref": "x\u0001"})
        entries = (await client.get("/v1/institutions/regione-liguria/entries")).json()["items"]
        export = (await client.get("/v1/ledger/export")).text
        iati = (await client.get("/v1/ledger/export", params={"format": "iati"})).json()

    assert (line["cup"], line["source_ref"], line["source_status"]) == (CUP, REF, "In corso")
    assert [(h["kind"], h["act_date"]) for h in line["history"]] == [
        ("COMMITMENT", "2027-03-01"),
        ("DISBURSEMENT", "2027-06-30"),
        ("REVISION", None),
    ]
    assert (plain["source_ref"], plain["source_status"], plain["history"][0]["act_date"]) == (None, None, None)
    assert [(i["line_id"], i["source_ref"], i["source_status"]) for i in found["items"]] == [
        ("OC-1", REF, "In corso"),
        ("OC-2", REF, None),
    ]
    assert none["items"] == []
    assert (bad.status_code, bad.json()["field"]) == (422, "query.source_ref")
    assert [(e["line_id"], e["kind"], e["act_date"]) for e in entries][:2] == [
        ("OC-1", "COMMITMENT", "2027-03-01"),
        ("OC-2", "COMMITMENT", None),
    ]

    rows = list(csv.DictReader(io.StringIO(export, newline="")))
    by_entry = {(r["line_id"], r["kind"]): r for r in rows}
    committed, disbursed = by_entry[("OC-1", "COMMITMENT")], by_entry[("OC-1", "DISBURSEMENT")]
    assert (committed["cup"], committed["source_ref"], committed["source_status"], committed["act_date"]) == (
        CUP,
        REF,
        "In corso",
        "2027-03-01",
    )
    assert (disbursed["source_ref"], disbursed["act_date"]) == (REF, "2027-06-30")
    assert by_entry[("PLAIN", "COMMITMENT")]["act_date"] == ""
    (payment,) = [t for t in iati["transactions"] if t["transaction-type"]["code"] == "3"]
    assert payment["transaction-date"] == {"iso-date": "2027-06-30"}
    assert payment["regia:ledger"]["source-ref"] == REF

    stored = await database.fetch(
        "funding",
        "SELECT l.line_id, l.source_ref, l.source_status, e.kind, e.act_date FROM ledger_entries e"
        " JOIN funding_lines l USING (line_id) WHERE l.line_id = 'OC-1' ORDER BY e.entry_id",
    )
    assert [(r["source_ref"], r["source_status"], r["kind"], str(r["act_date"])) for r in stored] == [
        (REF, "In corso", "COMMITMENT", "2027-03-01"),
        (REF, "In corso", "DISBURSEMENT", "2027-06-30"),
        (REF, "In corso", "REVISION", "None"),
    ]
    outbox = await database.fetch("funding", "SELECT type, body FROM outbox ORDER BY id")
    payloads = [(r["type"], json.loads(r["body"])["payload"]) for r in outbox]
    assert [(t, p.get("source_ref"), p.get("source_status"), p.get("act_date")) for t, p in payloads] == [
        ("FundingCommitted", REF, "In corso", "2027-03-01"),
        ("FundingCommitted", REF, None, None),
        ("FundingCommitted", None, None, None),
        ("FundingDisbursed", REF, "In corso", "2027-06-30"),
        ("FundingRevised", REF, "In corso", None),  # every event of the line carries its ids
    ]


async def test_an_administrator_finds_a_projects_lines_across_institutions_by_its_code(funding) -> None:  # type: ignore[no-untyped-def]
    liguria = await issue_key(funding, "regione-liguria")
    spezia = await issue_key(funding, "comune-spezia")
    async with funding.client(headers=liguria) as client:
        await send(client, {**commitment("LIG-OC"), "source_ref": REF}, "l")
    async with funding.client(headers=spezia) as client:
        body = {**commitment("COM-OC"), "instrument_id": "bilancio-comunale", "source_ref": REF}
        await send(client, body, "c")
        own = (await client.get("/v1/funding-lines", params={"source_ref": REF})).json()
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        every = (await admin.get("/v1/funding-lines", params={"source_ref": REF, "limit": 1})).json()
        rest = (
            await admin.get("/v1/funding-lines", params={"source_ref": REF, "limit": 1, "cursor": every["next_cursor"]})
        ).json()
    assert [i["line_id"] for i in own["items"]] == ["COM-OC"]  # an institution sees its own only
    assert [i["line_id"] for i in every["items"] + rest["items"]] == ["COM-OC", "LIG-OC"]
    assert rest["next_cursor"] is None


async def test_a_project_code_is_found_from_its_index_not_by_reading_every_line(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    """20,000 lines, one project's code on three of them: the listing by `source_ref` reads
    the partial index migration 0005 made, whatever the sort, never the table."""
    from regia_funding.adapters.lines import LINE_SORTS, lines_page_query

    conn = await database.connect("funding")
    try:
        await conn.execute(
            """
            INSERT INTO funding_lines (line_id, institution_id, level, objective_id, fiscal_year,
                committed_cents, disbursed_cents, version, status, instrument_id, source_ref)
            SELECT 'L-' || lpad(g::text, 6, '0'), 'inst-' || (g % 50), 'REGIONE', 'obj-' || (g % 2000),
                   2027, g, 0, 1, 'ACTIVE', 'instr-' || (g % 100),
                   CASE WHEN g % 7000 = 1 THEN $2 WHEN g % 3 = 0 THEN 'P-' || g END
            FROM generate_series(1, $1) g
            """,
            20_000,
            REF,
        )
        await conn.execute("ANALYZE funding_lines")
        for sort in LINE_SORTS:
            sql, args = lines_page_query({"source_ref": REF}, sort, None, 51)
            assert len(await conn.fetch(sql, *args)) == 3
            explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args)
            plan = json.loads(explained)[0]["Plan"]

            def walk(node: dict) -> list[dict]:
                return [node, *(n for child in node.get("Plans", []) for n in walk(child))]

            used = {n.get("Index Name") for n in walk(plan)} - {None}
            assert used == {"funding_lines_source_ref"}, (sort, [n["Node Type"] for n in walk(plan)], used)
            assert "Seq Scan" not in {n["Node Type"] for n in walk(plan)}
    finally:
        await conn.close()
