"""History (issue 19) on the funding service against a real PostgreSQL and broker: an
administrator's import on a `history` channel records a closed year's money as history
lines, refuses open years, and the lines show as history in the line, the list, the totals
and the export; the roll-over leaves them alone and the ledger still verifies."""

import csv
import io

import pytest

from regia_shared.contracts import topics

from ..support import kafka
from ..support.funding_api import commitment, counts, issue_key
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS

pytestmark = pytest.mark.usefixtures("service_env")

SOURCE = "history:por-fesr-2007-2013"


def history_import(*events: dict, channel: str = SOURCE) -> dict:
    return {"institution_id": "regione-liguria", "channel": channel, "events": list(events)}


async def test_a_history_import_records_a_closed_years_money_as_history(funding, database: Database, broker) -> None:  # type: ignore[no-untyped-def]
    # The window opens on 2025 (tests/integration/conftest.py): 2012 is closed.
    old = commitment("POR-2012-1", amount=250_000_00, fiscal_year=2012, reason="POR FESR 2007-2013, asse 3")
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post("/v1/imports/funding-events", json=history_import(old), headers={"Idempotency-Key": "h1"})
        assert r.status_code == 202, r.text
        paid = {"type": "disbursement", "line_id": "POR-2012-1", "amount_cents": 200_000_00, "reason": "saldo"}
        r = await admin.post("/v1/imports/funding-events", json=history_import(paid), headers={"Idempotency-Key": "h2"})
        assert r.status_code == 202, r.text
        line = (await admin.get("/v1/funding-lines/POR-2012-1")).json()
    assert (line["is_history"], line["fiscal_year"], line["committed_cents"], line["disbursed_cents"]) == (
        True,
        2012,
        250_000_00,
        200_000_00,
    )
    assert [(e["kind"], e["channel"], e["pushed_by"]) for e in line["history"]] == [
        ("COMMITMENT", SOURCE, "admin"),
        ("DISBURSEMENT", SOURCE, "admin"),
    ]
    published = await kafka.read_all(broker.bootstrap_servers, topics.FUNDING, expect=2)
    assert [(e.type, e.payload["history"]) for e in published] == [
        ("FundingCommitted", True),
        ("FundingDisbursed", True),
    ]


async def test_history_is_refused_for_an_open_year_and_the_window_rules_stay_as_they_are(
    funding, database: Database
) -> None:  # type: ignore[no-untyped-def]
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        before = await counts(database)
        r = await admin.post(
            "/v1/imports/funding-events",
            json=history_import(commitment("H-OPEN", fiscal_year=2027)),
            headers={"Idempotency-Key": "o1"},
        )
        assert r.status_code == 422, r.text
        detail = r.json()["details"][0]
        assert detail["field"] == "fiscal_year" and "use an import channel" in detail["message"]
        r = await admin.post(
            "/v1/imports/funding-events",
            json=history_import(commitment("I-OLD", fiscal_year=2012), channel="import:opencoesione"),
            headers={"Idempotency-Key": "o2"},
        )
        assert r.status_code == 422 and "outside the budget window" in r.json()["details"][0]["message"]
        r = await admin.post(
            "/v1/imports/funding-events",
            json=history_import(commitment("H-BAD", fiscal_year=2012), channel="historical"),
            headers={"Idempotency-Key": "o3"},
        )
        assert r.status_code == 422 and r.json()["field"].endswith("channel")
        assert await counts(database) == before == (0, 0, 0)


async def test_a_history_line_changes_only_through_a_history_import(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post(
            "/v1/imports/funding-events",
            json=history_import(commitment("H1", fiscal_year=2013)),
            headers={"Idempotency-Key": "c1"},
        )
        assert r.status_code == 202, r.text
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=key) as c:
        before = await counts(database)
        r = await c.post(
            "/v1/funding-events",
            json={"type": "disbursement", "line_id": "H1", "amount_cents": 1},
            headers={"Idempotency-Key": "k1"},
        )
        assert r.status_code == 422 and "only a history import changes it" in r.json()["message"]
        # An institution's key cannot name a channel at all: imports are the administrator's.
        r = await c.post("/v1/imports/funding-events", json=history_import(commitment("H2", fiscal_year=2013)),
                         headers={"Idempotency-Key": "k2"})  # fmt: skip
        assert r.status_code == 401
        assert await counts(database) == before


async def test_the_same_key_and_events_on_another_channel_are_a_key_reused_not_a_replay(
    funding, database: Database
) -> None:  # type: ignore[no-untyped-def]
    events = [commitment("H-2014", fiscal_year=2014)]
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        first = await admin.post("/v1/imports/funding-events", json=history_import(*events),
                                 headers={"Idempotency-Key": "same"})  # fmt: skip
        assert first.status_code == 202, first.text
        again = await admin.post("/v1/imports/funding-events", json=history_import(*events),
                                 headers={"Idempotency-Key": "same"})  # fmt: skip
        assert again.headers.get("Idempotent-Replayed") == "true"  # the same request: replayed
        before = await counts(database)
        # The same key and events as an open import ask for something else: refused, not
        # answered with the history import's answer as if it had been recorded.
        other = await admin.post("/v1/imports/funding-events", json=history_import(*events, channel="import:oc"),
                                 headers={"Idempotency-Key": "same"})  # fmt: skip
        assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused", other.text
        assert await counts(database) == before


async def test_history_shows_in_the_list_the_totals_and_the_export_and_the_roll_over_leaves_it(funding) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=key) as c:
        r = await c.post("/v1/funding-events", json=commitment("OPEN-1", amount=700, fiscal_year=2025),
                         headers={"Idempotency-Key": "open"})  # fmt: skip
        assert r.status_code == 202, r.text
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post(
            "/v1/imports/funding-events",
            json=history_import(commitment("H-2010", amount=300, fiscal_year=2010), commitment("H-2024", amount=400, fiscal_year=2024)),
            headers={"Idempotency-Key": "l1"},
        )  # fmt: skip
        assert r.status_code == 202, r.text
        listed = (await admin.get("/v1/funding-lines", params={"history": "true"})).json()["items"]
        assert [(x["line_id"], x["is_history"]) for x in listed] == [("H-2010", True), ("H-2024", True)]
        listed = (await admin.get("/v1/funding-lines", params={"history": "false"})).json()["items"]
        assert [(x["line_id"], x["is_history"]) for x in listed] == [("OPEN-1", False)]
        totals = (await admin.get("/v1/totals", params={"by": "history"})).json()
        assert totals == [
            {"history": False, "committed_cents": 700, "disbursed_cents": 0, "lines": 1},
            {"history": True, "committed_cents": 700, "disbursed_cents": 0, "lines": 2},
        ]
        only = (await admin.get("/v1/totals", params={"by": "year", "history": "true"})).json()
        assert [(t["fiscal_year"], t["committed_cents"]) for t in only] == [(2010, 300), (2024, 400)]
        exported = list(csv.DictReader(io.StringIO((await admin.get("/v1/ledger/export")).text)))
        assert {(e["line_id"], e["history"]) for e in exported} == {
            ("OPEN-1", "false"),
            ("H-2010", "true"),
            ("H-2024", "true"),
        }
        history_only = (await admin.get("/v1/ledger/export", params={"format": "iati", "history": "true"})).json()
        assert {t["regia:ledger"]["line-id"] for t in history_only["transactions"]} == {"H-2010", "H-2024"}
        assert all(t["regia:ledger"]["history"] for t in history_only["transactions"])

        r = await admin.post("/v1/budget-window/roll-over", json={"closing_year": 2025})
        assert r.status_code == 200, r.text
        assert (r.json()["lines_rolled"], r.json()["cents_rolled"]) == (1, 700)
        untouched = [(await admin.get(f"/v1/funding-lines/{i}")).json() for i in ("H-2010", "H-2024")]
        assert [(x["version"], x["status"], x["committed_cents"]) for x in untouched] == [
            (1, "ACTIVE", 300),
            (1, "ACTIVE", 400),
        ]
        verify = (await admin.get("/v1/ledger/verify")).json()
    assert verify["consistent"], verify
