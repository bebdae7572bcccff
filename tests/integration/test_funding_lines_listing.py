"""The funding service's read side of issue 18 against a real PostgreSQL and broker: the
paged, filtered and sorted list of lines (institution scoping included), the CUP on a
commitment and its event, totals as they stood on a date, an institution's entries a page
at a time, and the documents (OpenAPI, AsyncAPI) that describe them."""

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from regia_shared.contracts.fiscal import ZONE

from ..support.funding_api import commitment, issue_key
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS

pytestmark = pytest.mark.usefixtures("service_env")

CUP = "D41B19000120007"
# (line, instrument, objective, year, committed cents): Regione Liguria's, then the Comune's.
REGIONE = [
    *(
        (f"R{n:02d}", "por-fesr-liguria", "miglio-blu", 2027, cents)
        for n, cents in enumerate(
            [500_00, 300_00, 300_00, 900_00, 100_00, 700_00, 300_00, 800_00, 200_00, 600_00, 400_00, 1000_00], start=1
        )
    ),
    ("R13", "bilancio-regionale", "rete-lavoro", 2026, 250_00),
    ("R14", "bilancio-regionale", "rete-lavoro", 2026, 350_00),
]
COMUNE = [(f"C0{n}", "bilancio-comunale", "miglio-blu", 2027, c) for n, c in ((1, 150_00), (2, 300_00), (3, 50_00))]


def opening(line: str, instrument: str, objective: str, year: int, cents: int) -> dict:
    body = commitment(line, cents, instrument_id=instrument, objective_id=objective, fiscal_year=year)
    return {**body, "cup": CUP} if line == "R14" else body


async def send(client: Any, body: dict, key: str) -> None:
    r = await client.post("/v1/funding-events", json=body, headers={"Idempotency-Key": key})
    assert r.status_code == 202, r.text


async def seeded(funding: Any) -> tuple[dict[str, str], dict[str, str]]:
    """The lines above, then (each its own transaction, so each later in time) a payment
    on R01, R05 revised to €1,200 and C03 revoked: the state every test below reads."""
    regione, comune = await issue_key(funding, "regione-liguria"), await issue_key(funding, "comune-spezia")
    async with funding.client(headers=regione) as c:
        r = await c.post(
            "/v1/funding-events/batch",
            json={"events": [opening(*line) for line in REGIONE]},
            headers={"Idempotency-Key": "regione-lines"},
        )
        assert r.status_code == 202, r.text
    async with funding.client(headers=comune) as c:
        r = await c.post(
            "/v1/funding-events/batch",
            json={"events": [opening(*line) for line in COMUNE]},
            headers={"Idempotency-Key": "comune-lines"},
        )
        assert r.status_code == 202, r.text
    async with funding.client(headers=regione) as c:
        await send(c, {"type": "disbursement", "line_id": "R01", "amount_cents": 100_00}, "pay-r01")
        await send(c, {"type": "revision", "line_id": "R05", "committed_cents": 1200_00}, "revise-r05")
    async with funding.client(headers=comune) as c:
        await send(c, {"type": "revocation", "line_id": "C03"}, "revoke-c03")
    return regione, comune


def final_committed() -> dict[str, int]:
    amounts = {line: cents for line, *_, cents in [*REGIONE, *COMUNE]}
    return amounts | {"R05": 1200_00, "C03": 0}  # C03 revoked with nothing paid: nothing left


async def walk(client: Any, limit: int, **params: object) -> list[dict]:
    """Every page of the list, following next_cursor (and checking the Link header agrees)."""
    items: list[dict] = []
    query: dict[str, object] = {"limit": limit, **params}
    while True:
        r = await client.get("/v1/funding-lines", params=query)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        if page["next_cursor"] is None:
            assert "link" not in r.headers
            return items
        assert len(page["items"]) == limit and 'rel="next"' in r.headers["link"]
        query["cursor"] = page["next_cursor"]


async def test_every_sort_walks_every_line_once_in_its_order(funding) -> None:  # type: ignore[no-untyped-def]
    await seeded(funding)
    committed = final_committed()
    every = sorted(committed)
    by_amount = sorted(every, key=lambda line: (committed[line], line))
    # Each request was its own transaction, so later changes have later updated_at; lines
    # opened in one batch share theirs and are ordered by line id, descending like the time.
    regione_batch = sorted((x for x in every if x.startswith("R") and x not in ("R01", "R05")), reverse=True)
    newest_first = ["C03", "R05", "R01", "C02", "C01", *regione_batch]
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        assert [i["line_id"] for i in await walk(admin, 4)] == every
        assert [i["line_id"] for i in await walk(admin, 4, sort="line_id")] == every
        assert [i["line_id"] for i in await walk(admin, 4, sort="committed")] == by_amount
        assert [i["line_id"] for i in await walk(admin, 5, sort="-committed")] == by_amount[::-1]
        assert [i["line_id"] for i in await walk(admin, 3, sort="-updated")] == newest_first
        assert len(await walk(admin, 500)) == 17  # one page holds them all: no next page
        first = (await admin.get("/v1/funding-lines", params={"sort": "-committed", "limit": 1})).json()
    assert first["items"] == [
        {
            "line_id": "R05",
            "institution_id": "regione-liguria",
            "instrument_id": "por-fesr-liguria",
            "level": "REGIONE",
            "objective_id": "miglio-blu",
            "fiscal_year": 2027,
            "cup": None,
            "source_ref": None,
            "source_status": None,
            "committed_cents": 1200_00,
            "disbursed_cents": 0,
            "version": 2,
            "status": "ACTIVE",
            "updated_at": first["items"][0]["updated_at"],
            "is_history": False,
        }
    ]
    assert datetime.fromisoformat(first["items"][0]["updated_at"]).tzinfo is not None


async def test_filters_narrow_the_list_and_cursors_are_bound_to_them(funding) -> None:  # type: ignore[no-untyped-def]
    await seeded(funding)
    committed = final_committed()

    async with funding.client(headers=ADMIN_HEADERS) as admin:

        async def ids(**params: object) -> list[str]:
            return [i["line_id"] for i in await walk(admin, 4, **params)]

        miglio = await ids(objective_id="miglio-blu", sort="-committed")
        assert miglio == sorted(
            (x for x in committed if x not in ("R13", "R14")), key=lambda x: (committed[x], x), reverse=True
        )
        assert sum(committed[x] for x in miglio) == 7200_00 + 450_00  # Regione's 12 lines, the Comune's 3
        assert await ids(objective_id="rete-lavoro") == ["R13", "R14"]
        assert await ids(fiscal_year=2026) == ["R13", "R14"]
        assert await ids(level="COMUNE") == ["C01", "C02", "C03"]
        assert await ids(institution_id="comune-spezia", status="ACTIVE") == ["C01", "C02"]
        assert await ids(status="REVOKED") == ["C03"]
        assert await ids(instrument_id="bilancio-regionale", sort="-committed") == ["R14", "R13"]
        assert await ids(cup=CUP) == ["R14"]
        assert await ids(objective_id="miglio-blu", fiscal_year=2026) == []
        assert len(await ids(objective_id="miglio-blu", level="REGIONE", fiscal_year=2027, status="ACTIVE")) == 12

        page = (await admin.get("/v1/funding-lines", params={"objective_id": "miglio-blu", "limit": 2})).json()
        for other in ({"objective_id": "rete-lavoro"}, {"objective_id": "miglio-blu", "sort": "committed"}):
            r = await admin.get("/v1/funding-lines", params={**other, "limit": 2, "cursor": page["next_cursor"]})
            assert r.status_code == 422 and r.json()["field"] == "cursor", r.text
        r = await admin.get("/v1/funding-lines", params={"objective_id": "miglio-blu", "cursor": page["next_cursor"]})
        assert r.status_code == 200 and r.json()["items"][0]["line_id"] == "C03"  # after C01, C02


async def test_an_institution_lists_only_its_own_lines(funding) -> None:  # type: ignore[no-untyped-def]
    regione, comune = await seeded(funding)
    async with funding.client(headers=regione) as c:
        mine = await walk(c, 5, sort="-committed")
        assert {i["institution_id"] for i in mine} == {"regione-liguria"} and len(mine) == 14
        assert [i["line_id"] for i in await walk(c, 5, institution_id="regione-liguria", level="COMUNE")] == []
        r = await c.get("/v1/funding-lines", params={"institution_id": "comune-spezia"})
        assert r.status_code == 403, r.text
        assert r.json()["error"] and "own" in r.json()["message"]
        # Another institution's lines on a shared objective stay out of sight.
        assert len(await walk(c, 50, objective_id="miglio-blu")) == 12
    async with funding.client(headers=comune) as c:
        theirs = await walk(c, 2, objective_id="miglio-blu")
        assert [(i["line_id"], i["committed_cents"], i["status"]) for i in theirs] == [
            ("C01", 150_00, "ACTIVE"),
            ("C02", 300_00, "ACTIVE"),
            ("C03", 0, "REVOKED"),
        ]
        page = (await c.get("/v1/funding-lines", params={"limit": 1})).json()
    async with funding.client(headers=regione) as c:
        # A cursor made under the Comune's forced scope is not one of Regione's listings.
        r = await c.get("/v1/funding-lines", params={"limit": 1, "cursor": page["next_cursor"]})
        assert r.status_code == 422 and r.json()["field"] == "cursor"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "amount"}, "query.sort"),
        ({"sort": "-line_id"}, "query.sort"),
        ({"level": "GALAXY"}, "query.level"),
        ({"status": "OPEN"}, "query.status"),
        ({"cup": "D41B1900012000"}, "query.cup"),
        ({"cup": "d41b19000120007"}, "query.cup"),
        ({"fiscal_year": "twenty"}, "query.fiscal_year"),
        ({"limit": 0}, "query.limit"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
    ],
)
async def test_unknown_values_are_refused_naming_the_parameter(funding, params: dict, field: str) -> None:  # type: ignore[no-untyped-def]
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.get("/v1/funding-lines", params=params)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"] == field and body["error"] == "validation_failed", body


async def test_a_forged_cursor_of_the_right_listing_is_a_422_not_a_500(funding) -> None:  # type: ignore[no-untyped-def]
    from regia_shared.http.paging import encode_cursor

    base = {k: None for k in ("objective_id", "level", "fiscal_year", "cup", "instrument_id", "status")}
    filters = {**base, "institution_id": None}
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        for sort, key in (("committed", ["lots", "R01"]), ("-updated", ["yesterday", "R01"]), ("line_id", [1, 2])):
            cursor = encode_cursor(f"funding-lines:{sort}", filters, key)
            r = await admin.get("/v1/funding-lines", params={"sort": sort, "cursor": cursor})
            assert r.status_code == 422 and r.json()["field"] == "cursor", (sort, r.text)
        cursor = encode_cursor("funding-lines:committed", filters, [2**70, "R01"])
        r = await admin.get("/v1/funding-lines", params={"sort": "committed", "cursor": cursor})
        assert r.status_code == 422 and r.json()["field"] == "cursor"


async def test_a_commitment_carries_its_cup_to_the_line_and_the_event(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=key) as c:
        r = await c.post(
            "/v1/funding-events",
            json={**commitment("CUP-1"), "cup": "lowercase0cup00"},
            headers={"Idempotency-Key": "c0"},
        )
        assert r.status_code == 422 and r.json()["field"] == "cup", r.text
        assert "Codice Unico di Progetto" in r.json()["message"]
        await send(c, {**commitment("CUP-1", 700_00), "cup": CUP}, "c1")
        await send(c, {"type": "revision", "line_id": "CUP-1", "committed_cents": 650_00}, "c2")
        await send(c, commitment("NO-CUP", 100_00), "c3")
        line = (await c.get("/v1/funding-lines/CUP-1")).json()
        other = (await c.get("/v1/funding-lines/NO-CUP")).json()
    assert (line["cup"], line["committed_cents"], line["version"]) == (CUP, 650_00, 2)
    assert other["cup"] is None
    rows = await database.fetch("funding", "SELECT type, body FROM outbox ORDER BY id")
    payloads = [(r["type"], json.loads(r["body"])["payload"]) for r in rows]
    assert [(t, p["line_id"], p.get("cup")) for t, p in payloads] == [
        ("FundingCommitted", "CUP-1", CUP),
        ("FundingRevised", "CUP-1", CUP),  # every event of the line carries it
        ("FundingCommitted", "NO-CUP", None),
    ]


async def test_totals_as_of_read_the_ledger_as_it_stood(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    comune = await issue_key(funding, "comune-spezia")
    async with funding.client(headers=key) as c:
        await send(c, commitment("T1", 4_500_000_00), "t1")  # €4.5M on miglio-blu, 2027
        await send(c, commitment("T2", 1_000_000_00, objective_id="rete-lavoro"), "t2")
    opened = await database.fetchval("funding", "SELECT max(recorded_at) FROM ledger_entries")
    async with funding.client(headers=key) as c:
        await send(c, {"type": "revision", "line_id": "T1", "committed_cents": 3_000_000_00}, "t3")  # → €3M
        await send(c, {"type": "disbursement", "line_id": "T2", "amount_cents": 250_000_00}, "t4")
    async with funding.client(headers=comune) as c:
        await send(c, commitment("T3", 200_000_00, instrument_id="bilancio-comunale"), "t5")
    rows = await database.fetch("funding", "SELECT line_id, line_version, recorded_at FROM ledger_entries")
    at = {(r["line_id"], r["line_version"]): r["recorded_at"] for r in rows}
    assert at[("T1", 2)] > opened  # the revision came later in the database's own clock

    async with funding.client(headers=ADMIN_HEADERS) as admin:

        async def totals(**params: object) -> list[dict]:
            r = await admin.get("/v1/totals", params=params)
            assert r.status_code == 200, r.text
            return r.json()

        by_objective = {"by": ["objective"]}
        assert await totals(**by_objective, as_of=opened.isoformat()) == [
            {"objective_id": "miglio-blu", "committed_cents": 4_500_000_00, "disbursed_cents": 0, "lines": 1},
            {"objective_id": "rete-lavoro", "committed_cents": 1_000_000_00, "disbursed_cents": 0, "lines": 1},
        ]
        now = [
            {"objective_id": "miglio-blu", "committed_cents": 3_200_000_00, "disbursed_cents": 0, "lines": 2},
            {"objective_id": "rete-lavoro", "committed_cents": 1_000_000_00, "disbursed_cents": 250_000_00, "lines": 1},
        ]
        assert await totals(**by_objective) == now
        assert await totals(**by_objective, as_of=at[("T3", 1)].isoformat()) == now
        # Between the revision and the payment: T1 at €3M, T2 not yet paid, T3 not opened.
        assert await totals(objective_id="miglio-blu", as_of=at[("T1", 2)].isoformat()) == [
            {"committed_cents": 3_000_000_00, "disbursed_cents": 0, "lines": 1}
        ]
        # An instant just before anything: nothing had been committed.
        first = min(at.values())
        assert await totals(as_of=(first - timedelta(microseconds=1)).isoformat()) == [
            {"committed_cents": 0, "disbursed_cents": 0, "lines": 0}
        ]
        # A date is the whole day in Rome: today's holds everything, yesterday's nothing.
        today = datetime.now(ZONE).date()
        assert await totals(by="level", as_of=today.isoformat()) == [
            {"level": "COMUNE", "committed_cents": 200_000_00, "disbursed_cents": 0, "lines": 1},
            {"level": "REGIONE", "committed_cents": 4_000_000_00, "disbursed_cents": 250_000_00, "lines": 2},
        ]
        assert await totals(as_of=(today - timedelta(days=1)).isoformat()) == [
            {"committed_cents": 0, "disbursed_cents": 0, "lines": 0}
        ]
        # A date-time without an offset is Rome's time.
        naive = opened.astimezone(ZONE).replace(tzinfo=None).isoformat()
        assert (await totals(by="objective", as_of=naive))[0]["committed_cents"] == 4_500_000_00
        for bad in ("yesterday", "2027-02-30", "2027-13-01T00:00"):
            r = await admin.get("/v1/totals", params={"as_of": bad})
            assert r.status_code == 422 and r.json()["field"] == "query.as_of", (bad, r.text)
    async with funding.client(headers=comune) as c:  # an institution's as_of is its own money only
        r = await c.get("/v1/totals", params={"as_of": today.isoformat()})
        assert r.json() == [{"committed_cents": 200_000_00, "disbursed_cents": 0, "lines": 1}]
        assert (await c.get("/v1/totals", params={"institution_id": "regione-liguria"})).status_code == 403


async def test_an_institutions_entries_come_a_page_at_a_time(funding) -> None:  # type: ignore[no-untyped-def]
    regione, comune = await seeded(funding)

    async def every(client: Any, institution: str) -> list[dict]:
        items: list[dict] = []
        params: dict[str, object] = {"limit": 3}
        while True:
            r = await client.get(f"/v1/institutions/{institution}/entries", params=params)
            assert r.status_code == 200, r.text
            items += r.json()["items"]
            if r.json()["next_cursor"] is None:
                return items
            params["cursor"] = r.json()["next_cursor"]

    async with funding.client(headers=regione) as c:
        mine = await every(c, "regione-liguria")
        assert (await c.get("/v1/institutions/comune-spezia/entries")).status_code == 403
    assert [e["entry_id"] for e in mine] == sorted(e["entry_id"] for e in mine)  # oldest first
    assert len(mine) == 16 and {e["pushed_by"] for e in mine} == {"regione-liguria"}
    assert [(e["line_id"], e["kind"]) for e in mine[-2:]] == [("R01", "DISBURSEMENT"), ("R05", "REVISION")]
    assert sum(e["committed_delta_cents"] for e in mine) == sum(
        cents for line, cents in final_committed().items() if line.startswith("R")
    )
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        theirs = await every(admin, "comune-spezia")
        page = (await admin.get("/v1/institutions/comune-spezia/entries", params={"limit": 1})).json()
        r = await admin.get("/v1/institutions/regione-liguria/entries", params={"cursor": page["next_cursor"]})
        assert r.status_code == 422 and r.json()["field"] == "cursor"
    assert [(e["line_id"], e["kind"], e["committed_delta_cents"]) for e in theirs] == [
        ("C01", "COMMITMENT", 150_00),
        ("C02", "COMMITMENT", 300_00),
        ("C03", "COMMITMENT", 50_00),
        ("C03", "REVOCATION", -50_00),
    ]


async def test_the_documents_show_every_answer_and_the_inbound_command(funding) -> None:  # type: ignore[no-untyped-def]
    async with funding.client() as client:
        openapi = (await client.get("/openapi.json")).json()
        asyncapi = (await client.get("/asyncapi.json")).json()
        page = (await client.get("/asyncapi")).text
    schemas = openapi["components"]["schemas"]
    for path, item in openapi["paths"].items():
        if not path.startswith("/v1/") or path.startswith(("/v1/ops", "/v1/audit")):
            continue  # the shared routes are the runtime's
        for method, operation in item.items():
            codes = [c for c in operation["responses"] if c.startswith("2")]
            assert codes, (method, path)
            success = {c: r for c, r in operation["responses"].items() if c in codes and c != "204"}
            for response in success.values():
                for media, content in response["content"].items():
                    schema = content["schema"]
                    assert schema not in ({}, {"type": "object", "additionalProperties": True}), (method, path, media)
    export = openapi["paths"]["/v1/ledger/export"]["get"]["responses"]["200"]["content"]
    assert set(export) == {"text/csv", "application/json"}
    listed = schemas["Page_FundingLineItem_"]["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[-1]
    assert set(schemas[listed]["properties"]) == {
        "line_id", "institution_id", "instrument_id", "level", "objective_id", "fiscal_year", "cup",
        "source_ref", "source_status", "committed_cents", "disbursed_cents", "version", "status", "updated_at",
        "is_history",
    }  # fmt: skip
    params = {p["name"] for p in openapi["paths"]["/v1/funding-lines"]["get"]["parameters"]}
    assert params >= {"objective_id", "institution_id", "level", "fiscal_year", "cup", "instrument_id", "status"}
    assert {"source_ref", "history"} <= params
    assert params >= {"sort", "limit", "cursor"}

    (channel,) = [c for c in asyncapi["channels"].values() if c["address"] == "regia.funding.inbound.v1"]
    (ref,) = channel["messages"].values()
    message = asyncapi["components"]["messages"][ref["$ref"].rsplit("/", 1)[-1]]
    payload = asyncapi["components"]["schemas"][message["payload"]["$ref"].rsplit("/", 1)[-1]]
    commands = {a["$ref"].rsplit("/", 1)[-1] for a in payload["oneOf"]}
    assert commands == {"CommitFunding", "ReviseFunding", "DisburseFunding", "RevokeFunding", "ReallocateFunding"}
    commit = asyncapi["components"]["schemas"]["CommitFunding"]
    assert {"line_id", "instrument_id", "objective_id", "fiscal_year", "committed_cents", "cup"} <= set(
        commit["properties"]
    )
    assert {"source_ref", "source_status", "act_date"} <= set(commit["properties"])
    assert "act_date" in asyncapi["components"]["schemas"]["DisburseFunding"]["properties"]
    headers = message["headers"]
    assert set(headers["properties"]) == {"authorization", "idempotency-key", "correlation-id", "x-regia-reason"}
    assert set(headers["required"]) == {"authorization", "idempotency-key"}
    assert message["correlationId"]["location"] == "$message.header#/correlation-id"
    assert message["contentType"] == "application/json"
    assert "idempotency-key" in page and "CommitFunding" in page
