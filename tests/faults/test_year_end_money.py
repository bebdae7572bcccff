"""The year-end faults of issue 22, on the real PostgreSQL and broker: a roll-over handing one
institution's money to a line another institution squatted, or to a revoked line of another
objective; the ledger check blind to money that changed owner; a closed year still taking
changes; a year closed before it ended (by the admin, or by one plan's annual review).

The date the services take as today is pinned (`REGIA_TODAY`), and so is the budget
window, so none of this depends on when the tests run."""

import uuid

import pytest

from regia_funding.app import create_app as funding_app
from regia_objectives.app import create_app as objectives_app
from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.plans import AnnualReviewClosed
from regia_shared.contracts.levels import GovernmentLevel

from ..support import kafka
from ..support.faults import inbox_count
from ..support.figures import record
from ..support.funding_api import commitment, counts, issue_key, running_funding
from ..support.infra import Database
from ..support.partners import institution_registered
from ..support.services import ADMIN_HEADERS, RunningService, in_process
from ..support.wait import eventually

SARZANA = "comune-sarzana"


async def post(client, body: dict, key: str):  # type: ignore[no-untyped-def]
    return await client.post("/v1/funding-events", json=body, headers={"Idempotency-Key": key})


def sarzana_commitment(line_id: str, amount: int = 100_00, **changes: object) -> dict:
    return commitment(line_id, amount, instrument_id="bilancio-sarzana", fiscal_year=2026, **changes)


def pin(monkeypatch: pytest.MonkeyPatch, *, today: str, first_year: int) -> None:
    monkeypatch.setenv("REGIA_TODAY", today)
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", str(first_year))


async def with_sarzana(service: RunningService, bootstrap: str) -> None:
    """A second institution, the Comune di Sarzana, with a budget of its own."""
    await kafka.publish(
        bootstrap, topics.PARTNERS, [institution_registered(SARZANA, "Comune di Sarzana", GovernmentLevel.COMUNE)]
    )
    async with service.client(headers=ADMIN_HEADERS) as admin:

        async def known() -> bool:
            return SARZANA in {i["institution_id"] for i in (await admin.get("/v1/institutions")).json()}

        await eventually(known, what="Sarzana projected from its partner event")
        r = await admin.post(
            "/v1/instruments",
            json={
                "instrument_id": "bilancio-sarzana",
                "institution_id": SARZANA,
                "name": "Bilancio comunale di Sarzana",
                "kind": "budget",
            },
        )
        assert r.status_code == 201, r.text


@pytest.fixture
async def funding_2025(service_env, broker, monkeypatch):  # type: ignore[no-untyped-def]
    """Funding in January 2026, its window opening with 2025, which has ended."""
    pin(monkeypatch, today="2026-01-15", first_year=2025)
    async for service in running_funding(broker.bootstrap_servers):
        await with_sarzana(service, broker.bootstrap_servers)
        yield service


async def roll_over(service: RunningService, year: int):  # type: ignore[no-untyped-def]
    async with service.client(headers=ADMIN_HEADERS) as admin:
        return await admin.post("/v1/budget-window/roll-over", json={"closing_year": year})


async def line(service: RunningService, line_id: str) -> dict:
    async with service.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.get(f"/v1/funding-lines/{line_id}")
        assert r.status_code == 200, (line_id, r.text)
        return r.json()


async def verify(service: RunningService) -> dict:
    async with service.client(headers=ADMIN_HEADERS) as admin:
        return (await admin.get("/v1/ledger/verify")).json()


async def test_a_squatted_roll_over_target_never_receives_another_institutions_money(  # type: ignore[no-untyped-def]
    funding_2025, database: Database
) -> None:
    liguria = await issue_key(funding_2025, "regione-liguria")
    sarzana = await issue_key(funding_2025, SARZANA)
    async with funding_2025.client(headers=sarzana) as c:
        # Taken before Liguria's line existed: the id was free then (as in the report).
        assert (await post(c, sarzana_commitment("LIG-2025-X.2026"), "s1")).status_code == 202
        assert (await post(c, sarzana_commitment("SAR-2026-1", 300_00), "s2")).status_code == 202
    async with funding_2025.client(headers=liguria) as c:
        assert (await post(c, commitment("LIG-2025-X", 1000_00, fiscal_year=2025), "l1")).status_code == 202
        assert (await post(c, commitment("LIG-2025-Y", 500_00, fiscal_year=2025), "l2")).status_code == 202
    before = await counts(database)
    async with funding_2025.client(headers=sarzana) as c:
        # Once a line exists, the id its roll-over will take is its owner's alone.
        r = await post(c, sarzana_commitment("LIG-2025-Y.2026"), "s3")
        assert (r.status_code, r.json()["field"]) == (403, "line_id"), r.text
        r = await post(
            c,
            {
                "type": "reallocation",
                "line_id": "SAR-2026-1",
                "amount_cents": 100,
                "to_line_id": "LIG-2025-Y.2026",
                "to_objective_id": "miglio-blu",
            },
            "s4",
        )
        assert (r.status_code, r.json()["field"]) == (403, "to_line_id"), r.text
        r = await post(c, sarzana_commitment("rollover:2026:SAR-1"), "s5")  # the roll-over's own namespace
        assert (r.status_code, r.json()["field"]) == (422, "line_id"), r.text
    assert await counts(database) == before

    r = await roll_over(funding_2025, 2025)
    assert r.status_code == 200, r.text
    assert (r.json()["lines_rolled"], r.json()["cents_rolled"]) == (2, 1500_00)
    assert r.json()["redirected"] == [
        {"line_id": "LIG-2025-X", "to_line_id": "rollover:2026:LIG-2025-X", "because": "LIG-2025-X.2026"}
    ]
    squat = await line(funding_2025, "LIG-2025-X.2026")
    assert (squat["institution_id"], squat["committed_cents"], squat["version"]) == (SARZANA, 100_00, 1)
    rest = await line(funding_2025, "rollover:2026:LIG-2025-X")
    assert (
        rest["institution_id"],
        rest["instrument_id"],
        rest["objective_id"],
        rest["fiscal_year"],
        rest["committed_cents"],
    ) == ("regione-liguria", "por-fesr-liguria", "miglio-blu", 2026, 1000_00)
    assert (await line(funding_2025, "LIG-2025-Y.2026"))["institution_id"] == "regione-liguria"
    async with funding_2025.client(headers=sarzana) as c:  # and it stays out of Sarzana's reach
        r = await post(
            c,
            {"type": "reallocation", "line_id": "LIG-2025-X.2026", "amount_cents": 100_00, "to_line_id": "SAR-2026-1"},
            "s6",
        )
        assert r.status_code == 202  # its own 100 euro, nothing more
        r = await post(c, {"type": "disbursement", "line_id": "rollover:2026:LIG-2025-X", "amount_cents": 1}, "s7")
        assert r.status_code == 403
    async with funding_2025.client(headers=liguria) as c:  # the owner uses it like any line
        r = await post(c, {"type": "disbursement", "line_id": "rollover:2026:LIG-2025-X", "amount_cents": 1}, "l3")
        assert r.status_code == 202, r.text
    checked = await verify(funding_2025)
    assert checked["consistent"] and checked["owner_changes"] == []
    record("year-end roll-over: squatted next-year line id", faults=1, euros_lost=0)


async def test_a_revoked_line_of_another_objective_never_receives_the_rest(funding_2025) -> None:  # type: ignore[no-untyped-def]
    liguria = await issue_key(funding_2025, "regione-liguria")
    async with funding_2025.client(headers=liguria) as c:
        for n, body in enumerate(
            [
                commitment("A", 300_00, fiscal_year=2025),
                commitment("A.2026", 100_00, fiscal_year=2026, objective_id="rete-lavoro"),
                {"type": "revocation", "line_id": "A.2026"},
                commitment("B", 200_00, fiscal_year=2025),  # its next-year id holds another instrument
                commitment("B.2026", 50_00, fiscal_year=2026, instrument_id="bilancio-regionale"),
                commitment("C", 400_00, fiscal_year=2025),  # its own next-year line: extended
                commitment("C.2026", 10_00, fiscal_year=2026),
            ]
        ):
            assert (await post(c, body, f"k{n}")).status_code == 202, body
    r = await roll_over(funding_2025, 2025)
    assert r.status_code == 200, r.text
    assert {x["line_id"]: x["to_line_id"] for x in r.json()["redirected"]} == {
        "A": "rollover:2026:A",
        "B": "rollover:2026:B",
    }
    revoked = await line(funding_2025, "A.2026")
    assert (revoked["status"], revoked["committed_cents"], revoked["version"]) == ("REVOKED", 0, 2)
    assert (await line(funding_2025, "B.2026"))["committed_cents"] == 50_00
    assert (await line(funding_2025, "rollover:2026:A"))["objective_id"] == "miglio-blu"
    assert (await line(funding_2025, "rollover:2026:B"))["instrument_id"] == "por-fesr-liguria"
    assert (await line(funding_2025, "C.2026"))["committed_cents"] == 410_00
    assert (await verify(funding_2025))["consistent"]
    record("year-end roll-over: revoked or foreign target", faults=1, euros_lost=0)


async def test_the_ledger_check_reports_money_that_changed_owner(funding_2025, database: Database) -> None:  # type: ignore[no-untyped-def]
    liguria = await issue_key(funding_2025, "regione-liguria")
    sarzana = await issue_key(funding_2025, SARZANA)
    async with funding_2025.client(headers=liguria) as c:
        assert (await post(c, commitment("L-OWN", 1000_00, fiscal_year=2025), "l1")).status_code == 202
        assert (await post(c, commitment("L-POR", 700_00), "l2")).status_code == 202
        assert (await post(c, commitment("L-BIL", 10_00, instrument_id="bilancio-regionale"), "l3")).status_code == 202
    async with funding_2025.client(headers=sarzana) as c:
        assert (await post(c, sarzana_commitment("S-SQUAT"), "s1")).status_code == 202
    assert (await verify(funding_2025))["consistent"]
    # What the unfixed roll-over and a careless reallocation wrote: each line and ledger
    # rebuild one another exactly, but the money crossed to another owner, or instrument.
    conn = await database.connect("funding")
    try:
        async with conn.transaction():
            for line_id, version, kind, delta, committed, status, counterpart in [
                ("L-OWN", 2, "ROLLOVER_OUT", -1000_00, 0, "ROLLED_OVER", "S-SQUAT"),
                ("S-SQUAT", 2, "ROLLOVER_IN", 1000_00, 1100_00, "ACTIVE", "L-OWN"),
                ("L-POR", 2, "REALLOCATION_OUT", -200_00, 500_00, "ACTIVE", "L-BIL"),
                ("L-BIL", 2, "REALLOCATION_IN", 200_00, 210_00, "ACTIVE", "L-POR"),
            ]:
                await conn.execute(
                    "UPDATE funding_lines SET committed_cents = $2, version = $3, status = $4 WHERE line_id = $1",
                    line_id,
                    committed,
                    version,
                    status,
                )
                await conn.execute(
                    "INSERT INTO ledger_entries (line_id, line_version, kind, delta_cents, committed_after,"
                    " disbursed_after, pushed_by, channel, event_id, correlation_id, counterpart_line_id)"
                    " VALUES ($1, $2, $3, $4, $5, 0, 'admin', 'year-end', $6, 'fault', $7)",
                    line_id,
                    version,
                    kind,
                    delta,
                    committed,
                    uuid.uuid4(),
                    counterpart,
                )
    finally:
        await conn.close()
    checked = await verify(funding_2025)
    assert checked["differences"] == []  # the amounts alone rebuild: only ownership betrays it
    assert not checked["consistent"]
    found = {(c["line_id"], c["counterpart_line_id"]): c["problem"] for c in checked["owner_changes"]}
    assert set(found) == {("L-OWN", "S-SQUAT"), ("L-POR", "L-BIL")}, checked
    assert "regione-liguria" in found[("L-OWN", "S-SQUAT")] and SARZANA in found[("L-OWN", "S-SQUAT")]
    assert "instrument" in found[("L-POR", "L-BIL")]
    record("ledger check: money that changed owner", faults=1, euros_lost=0)


async def test_a_closed_year_takes_no_more_changes(funding_2025, database: Database) -> None:  # type: ignore[no-untyped-def]
    liguria = await issue_key(funding_2025, "regione-liguria")
    async with funding_2025.client(headers=liguria) as c:
        assert (await post(c, commitment("P", 1000_00, fiscal_year=2025), "p1")).status_code == 202
        # Fully paid: nothing to roll, so the line stays ACTIVE in its closed year.
        assert (
            await post(c, {"type": "disbursement", "line_id": "P", "amount_cents": 1000_00}, "p2")
        ).status_code == 202
        assert (await post(c, commitment("N", 50_00, fiscal_year=2026), "p3")).status_code == 202
    assert (await roll_over(funding_2025, 2025)).status_code == 200
    before = await counts(database)
    async with funding_2025.client(headers=liguria) as c:
        for n, body in enumerate(
            [
                {"type": "revision", "line_id": "P", "committed_cents": 2000_00},
                {"type": "disbursement", "line_id": "P", "amount_cents": 1},
                {"type": "revocation", "line_id": "P"},
                {
                    "type": "reallocation",
                    "line_id": "P",
                    "amount_cents": 1,
                    "to_line_id": "P-NEW",
                    "to_objective_id": "rete-lavoro",
                },
            ]
        ):
            r = await post(c, body, f"closed-{n}")
            assert (r.status_code, r.json()["error"], r.json()["field"]) == (422, "invalid_change", "line_id"), r.text
            assert "2025 is closed" in r.json()["message"]
        r = await post(c, {"type": "reallocation", "line_id": "N", "amount_cents": 1, "to_line_id": "P"}, "into")
        assert (r.status_code, r.json()["field"]) == (422, "to_line_id"), r.text
        r = await post(c, commitment("P2", fiscal_year=2025), "open")
        assert (r.status_code, r.json()["field"]) == (422, "fiscal_year")
    assert await counts(database) == before
    assert (await line(funding_2025, "P"))["version"] == 2
    record("closed fiscal year stays closed", faults=1, euros_lost=0)


async def test_a_year_closes_only_once_it_has_ended(
    service_env,
    broker,
    database: Database,  # type: ignore[no-untyped-def]
    monkeypatch,
) -> None:
    pin(monkeypatch, today="2026-12-05", first_year=2026)
    async for funding in running_funding(broker.bootstrap_servers):
        key = await issue_key(funding, "regione-liguria")
        async with funding.client(headers=key) as c:
            assert (await post(c, commitment("D", 1000_00, fiscal_year=2026), "d1")).status_code == 202
        r = await roll_over(funding, 2026)
        assert (r.status_code, r.json()["field"]) == (422, "closing_year"), r.text
        assert "1 January 2027" in r.json()["message"]
        # One plan's review closed 2026 on 5 December, as the unfixed objectives service
        # let it: funding applies the event and leaves everyone's year open.
        await kafka.publish_objectives(
            broker.bootstrap_servers,
            [
                Envelope.wrap(
                    AnnualReviewClosed(
                        plan_id="pgs-2008",
                        fiscal_year=2026,
                        need_cents=0,
                        committed_cents=0,
                        disbursed_cents=0,
                        coverage_bp=0,
                        nodes_by_status={},
                    ),
                    key="pgs-2008",
                    producer="objectives",
                )
            ],
        )
        await eventually(
            lambda: _at_least(inbox_count(database, "funding", "funding.objectives"), 3), what="funding read the review"
        )
        async with funding.client(headers=ADMIN_HEADERS) as admin:
            assert (await admin.get("/v1/budget-window")).json()["first_year"] == 2026
        assert (await line(funding, "D"))["status"] == "ACTIVE"
        break
    monkeypatch.setenv("REGIA_TODAY", "2027-01-01")  # midnight in Rome: 2026 has ended
    async with in_process("funding", funding_app) as funding:
        r = await roll_over(funding, 2026)
        assert r.status_code == 200, r.text
        assert (await line(funding, "D.2027"))["committed_cents"] == 1000_00
    record("year closed before it ended", faults=1, euros_lost=0)


async def _at_least(count, n: int) -> bool:  # type: ignore[no-untyped-def]
    return await count() >= n


async def test_a_plans_review_cannot_close_a_year_that_has_not_ended(service_env, broker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_TODAY", "2026-12-05")
    plan = (
        "id: sarzana-2025\ntitle: Piano Sarzana\nterritory: Comune di Sarzana\n"
        "first_year: 2025\nlast_year: 2028\nnodes:\n  - id: v-s\n    kind: VISION\n    title: Visione\n"
    )
    async with in_process("objectives", objectives_app) as objectives:
        async with objectives.client(headers={"Content-Type": "application/yaml", **ADMIN_HEADERS}) as admin:
            r = await admin.post("/v1/plans/import", content=plan.encode())
            assert r.status_code == 200, r.text
            r = await admin.post("/v1/plans/sarzana-2025/reviews/2026")
            assert (r.status_code, r.json()["error"], r.json()["field"]) == (422, "year_not_ended", "fiscal_year"), (
                r.text
            )
            assert (await admin.get("/v1/plans/sarzana-2025/reviews/2026")).status_code == 404
            assert (await admin.post("/v1/plans/sarzana-2025/reviews/2025")).status_code == 201
    published = await kafka.read_all(broker.bootstrap_servers, topics.OBJECTIVES, expect=3, timeout=5)
    assert [e.payload["fiscal_year"] for e in published if e.type == "AnnualReviewClosed"] == [2025]
    record("annual review closing a year not ended", faults=1, euros_lost=0)
