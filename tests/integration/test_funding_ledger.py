"""The full ledger over HTTP against a real PostgreSQL and broker: every kind of entry,
every refusal writing nothing, batches, imports, the year-end roll-over, queries,
concurrent writers and the ledger rebuilding exactly what the lines hold."""

import asyncio
import random

import pytest

from regia_shared.contracts import topics

from ..support import kafka
from ..support.funding_api import commitment, counts, issue_key
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")


async def post(client, body: dict, key: str, **headers: str):  # type: ignore[no-untyped-def]
    return await client.post("/v1/funding-events", json=body, headers={"Idempotency-Key": key, **headers})


async def test_every_kind_of_entry_and_its_refusals(funding, database: Database, broker) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=key) as c:
        assert (await post(c, commitment(amount=1000_00), "k1")).status_code == 202
        r = await post(c, {"type": "disbursement", "line_id": "LIG-2027-1", "amount_cents": 300_00}, "k2")
        assert r.status_code == 202 and r.json()["disbursed_cents"] == 300_00
        r = await post(
            c,
            {
                "type": "reallocation",
                "line_id": "LIG-2027-1",
                "amount_cents": 200_00,
                "to_line_id": "LIG-2027-R",
                "to_objective_id": "rete-lavoro",
            },
            "k3",
        )
        assert r.status_code == 202, r.text
        assert r.json()["committed_cents"] == 800_00 and r.json()["counterpart"]["committed_cents"] == 200_00
        before = await counts(database)
        refusals = [
            ({"type": "disbursement", "line_id": "LIG-2027-1", "amount_cents": 500_01}, 422, "amount_cents"),
            (
                {"type": "reallocation", "line_id": "LIG-2027-1", "amount_cents": 500_01, "to_line_id": "LIG-2027-R"},
                422,
                "amount_cents",
            ),
            ({"type": "revision", "line_id": "LIG-2027-1", "committed_cents": 299_99}, 422, "committed_cents"),
            (commitment("X1", instrument_id="nope"), 422, "instrument_id"),
            (commitment("X2", instrument_id="bilancio-comunale"), 403, "instrument_id"),
            (commitment("X3", objective_id="unknown-objective"), 422, "objective_id"),
            (commitment("X4", fiscal_year=2099), 422, "fiscal_year"),
            ({**commitment("X5"), "currency": "USD"}, 422, "currency"),
            (
                {"type": "revision", "line_id": "LIG-2027-1", "committed_cents": 1, "expected_version": 1},
                409,
                "expected_version",
            ),
        ]
        for i, (body, status, field) in enumerate(refusals):
            r = await post(c, body, f"bad-{i}")
            assert (r.status_code, r.json()["field"]) == (status, field), (body, r.text)
        r = await post(
            c, {"type": "revision", "line_id": "LIG-2027-1", "committed_cents": 1}, "im", **{"If-Match": '"2"'}
        )
        assert r.status_code == 409 and r.json()["error"] == "stale_version"
        assert await counts(database) == before  # no refusal wrote anything

        line = await c.get("/v1/funding-lines/LIG-2027-1")
        assert line.headers["ETag"] == '"3"'
        r = await post(c, {"type": "revocation", "line_id": "LIG-2027-1"}, "k4", **{"If-Match": line.headers["ETag"]})
        assert r.status_code == 202 and r.json()["committed_cents"] == 300_00  # what was paid stays
        history = (await c.get("/v1/funding-lines/LIG-2027-1")).json()["history"]
    assert [e["kind"] for e in history] == ["COMMITMENT", "DISBURSEMENT", "REALLOCATION_OUT", "REVOCATION"]
    published = await kafka.read_all(broker.bootstrap_servers, topics.FUNDING, expect=5)
    assert [e.type for e in published if e.key == "rete-lavoro"] == ["FundingReallocated"]
    assert {e.type for e in published} == {
        "FundingCommitted",
        "FundingDisbursed",
        "FundingReallocated",
        "FundingRevoked",
    }


async def test_a_batch_is_all_or_nothing_and_reports_every_refusal(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    events = [
        commitment("B1"),
        commitment("B2", committed_cents=1.5),
        commitment("B3", objective_id="nope"),
        {"type": "disbursement", "line_id": "B1", "amount_cents": 1},
    ]
    async with funding.client(headers=key) as c:
        r = await c.post("/v1/funding-events/batch", json={"events": events}, headers={"Idempotency-Key": "b"})
        assert r.status_code == 422 and r.json()["field"] == "events.1.committed_cents"
        events[1] = commitment("B2")
        r = await c.post("/v1/funding-events/batch", json={"events": events}, headers={"Idempotency-Key": "b"})
        assert r.status_code == 422 and [d["index"] for d in r.json()["details"]] == [2]
        assert await counts(database) == (0, 0, 0)
        events[2] = commitment("B3", objective_id="rete-lavoro")
        r = await c.post("/v1/funding-events/batch", json={"events": events}, headers={"Idempotency-Key": "b"})
        assert r.status_code == 202, r.text
        assert [x["line_id"] for x in r.json()["results"]] == ["B1", "B2", "B3", "B1"]
    assert await counts(database) == (3, 4, 4)


async def test_imports_are_admin_only_and_record_their_channel(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    body = {
        "institution_id": "comune-spezia",
        "channel": "import:opencoesione",
        "events": [commitment("OC-1-COMUNE", instrument_id="bilancio-comunale")],
    }
    key = await issue_key(funding, "comune-spezia")
    async with funding.client(headers=key) as c:
        assert (
            await c.post("/v1/imports/funding-events", json=body, headers={"Idempotency-Key": "i"})
        ).status_code == 401
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post("/v1/imports/funding-events", json=body, headers={"Idempotency-Key": "i"})
        assert r.status_code == 202, r.text
        line = (await admin.get("/v1/funding-lines/OC-1-COMUNE")).json()
    assert line["institution_id"] == "comune-spezia" and line["level"] == "COMUNE"
    assert (line["history"][0]["channel"], line["history"][0]["pushed_by"]) == ("import:opencoesione", "admin")


async def test_keys_scoped_to_instruments(funding) -> None:  # type: ignore[no-untyped-def]
    scoped = await issue_key(funding, "regione-liguria", instruments=["bilancio-regionale"])
    async with funding.client(headers=scoped) as c:
        assert (await post(c, commitment("S1"), "s1")).status_code == 403
        assert (await post(c, commitment("S2", instrument_id="bilancio-regionale"), "s2")).status_code == 202
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post("/v1/institutions/regione-liguria/keys", json={"instruments": ["bilancio-comunale"]})
        assert r.status_code == 422


async def test_year_end_roll_over_moves_the_rest_and_the_window(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        first = (await admin.get("/v1/budget-window")).json()["first_year"]
    async with funding.client(headers=key) as c:
        assert (await post(c, commitment("Y1", amount=1000, fiscal_year=first), "y1")).status_code == 202
        assert (await post(c, {"type": "disbursement", "line_id": "Y1", "amount_cents": 400}, "y2")).status_code == 202
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        assert (await admin.post("/v1/budget-window/roll-over", json={"closing_year": first + 1})).status_code == 422
        r = await admin.post("/v1/budget-window/roll-over", json={"closing_year": first})
        assert r.status_code == 200, r.text
        assert (r.json()["lines_rolled"], r.json()["cents_rolled"], r.json()["redirected"]) == (1, 600, [])
        assert r.json()["window"]["first_year"] == first + 1
        closed = (await admin.get("/v1/funding-lines/Y1")).json()
        rolled = (await admin.get(f"/v1/funding-lines/Y1.{first + 1}")).json()
        verify = (await admin.get("/v1/ledger/verify")).json()
    assert (closed["status"], closed["committed_cents"], closed["disbursed_cents"]) == ("ROLLED_OVER", 400, 400)
    assert (rolled["fiscal_year"], rolled["committed_cents"], rolled["objective_id"]) == (first + 1, 600, "miglio-blu")
    assert verify["consistent"] and verify["owner_changes"] == []
    async with funding.client(headers=key) as c:  # the closed year no longer takes money
        assert (await post(c, commitment("Y2", fiscal_year=first), "y3")).status_code == 422


async def test_concurrent_writers_on_one_line_lose_no_update(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=key) as c:
        assert (await post(c, commitment("C1", amount=1500), "c0")).status_code == 202
        answers = await asyncio.gather(
            *(post(c, {"type": "disbursement", "line_id": "C1", "amount_cents": 100}, f"c{i}") for i in range(1, 21))
        )
        line = (await c.get("/v1/funding-lines/C1")).json()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [202] * 15 + [422] * 5  # exactly the money that existed was paid
    assert line["disbursed_cents"] == 1500 and line["version"] == 16
    assert [e["line_version"] for e in line["history"]] == list(range(1, 17))


async def test_replaying_the_ledger_rebuilds_exactly_the_same_totals(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    key = await issue_key(funding, "regione-liguria")
    lines = [f"R{i}" for i in range(6)]
    async with funding.client(headers=key) as c:
        for i, line in enumerate(lines):
            objective = "miglio-blu" if i % 2 else "rete-lavoro"
            assert (await post(c, commitment(line, amount=10_000, objective_id=objective), f"o{i}")).status_code == 202
        for n in range(80):
            line = rng.choice(lines)
            body = rng.choice(
                [
                    {"type": "revision", "line_id": line, "committed_cents": rng.randrange(0, 20_000)},
                    {"type": "disbursement", "line_id": line, "amount_cents": rng.randrange(1, 3_000)},
                    {
                        "type": "reallocation",
                        "line_id": line,
                        "amount_cents": rng.randrange(1, 3_000),
                        "to_line_id": rng.choice([x for x in lines if x != line]),
                    },
                ]
            )
            r = await post(c, body, f"r{n}")
            assert r.status_code in (202, 422), r.text
        by_objective = (await c.get("/v1/totals", params={"by": ["objective", "level"]})).json()
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        verify = (await admin.get("/v1/ledger/verify")).json()
        history: list[dict] = []
        params: dict[str, object] = {"limit": 100}
        while True:  # every page of what the institution pushed, oldest first
            page = (await admin.get("/v1/institutions/regione-liguria/entries", params=params)).json()
            history += page["items"]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
    assert [e["entry_id"] for e in history] == sorted({e["entry_id"] for e in history})
    assert verify == {"lines": 6, "consistent": True, "differences": [], "owner_changes": []}
    # The same totals folded from the institution's pushed history alone.
    committed: dict[str, int] = {}
    for entry in history:
        committed[entry["line_id"]] = committed.get(entry["line_id"], 0) + entry["committed_delta_cents"]
    objective_of = {line: ("miglio-blu" if i % 2 else "rete-lavoro") for i, line in enumerate(lines)}
    expected: dict[str, int] = {}
    for line, cents in committed.items():
        expected[objective_of[line]] = expected.get(objective_of[line], 0) + cents
    assert {t["objective_id"]: t["committed_cents"] for t in by_objective} == expected
    assert all(t["level"] == "REGIONE" for t in by_objective)


async def test_an_annual_review_closing_the_first_year_rolls_the_window_on(funding, broker, database) -> None:  # type: ignore[no-untyped-def]
    from regia_shared.contracts.events.envelope import Envelope
    from regia_shared.contracts.events.plans import AnnualReviewClosed

    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        first = (await admin.get("/v1/budget-window")).json()["first_year"]
    async with funding.client(headers=key) as c:
        assert (await post(c, commitment("W1", amount=1000, fiscal_year=first), "w1")).status_code == 202

    def closed(plan: str) -> Envelope:
        return Envelope.wrap(
            AnnualReviewClosed(
                plan_id=plan,
                fiscal_year=first,
                need_cents=0,
                committed_cents=0,
                disbursed_cents=0,
                coverage_bp=0,
                nodes_by_status={},
            ),
            key=plan,
            producer="objectives",
        )

    # Two plans close the same year: the window moves once, the line rolls once.
    closings = [closed("plan-a"), closed("plan-b")]
    await kafka.publish_objectives(broker.bootstrap_servers, closings)

    async def moved() -> dict | None:
        async with funding.client(headers=ADMIN_HEADERS) as admin:
            window = (await admin.get("/v1/budget-window")).json()
        return window if window["first_year"] == first + 1 else None

    await eventually(moved, what="the budget window moved on")
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        rolled = (await admin.get(f"/v1/funding-lines/W1.{first + 1}")).json()

        async def both_consumed() -> bool:
            ids = [e.event_id for e in closings]
            return await database.fetchval("funding", "SELECT count(*) FROM inbox WHERE event_id = ANY($1)", ids) == 2

        await eventually(both_consumed, what="both closings consumed")  # the second one too, before looking
        assert (await admin.get("/v1/budget-window")).json()["first_year"] == first + 1
    assert rolled["committed_cents"] == 1000 and rolled["history"][0]["channel"] == "year-end"
