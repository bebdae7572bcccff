"""The objectives service against a real PostgreSQL and broker: funding events move the
coverage projection exactly once, in any order, and poison does not block a partition."""

import json

import pytest

from regia_objectives.app import create_app
from regia_shared.contracts import topics
from regia_shared.contracts.levels import GovernmentLevel

from ..support import kafka
from ..support.funding import line_event
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, RunningService, in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")
NEED = 1_000_000_00  # € 1,000,000.00


@pytest.fixture
async def objectives(service_env):  # type: ignore[no-untyped-def]
    async with in_process("objectives", create_app) as service:
        async with service.client(headers=ADMIN_HEADERS) as admin:
            r = await admin.post(
                "/v1/objectives",
                json={
                    "objective_id": "miglio-blu",
                    "title": "Il Miglio Blu",
                    "at_risk_threshold_pct": 80,
                    "needs": [{"fiscal_year": 2027, "need_cents": NEED}],
                },
            )
            assert r.status_code == 201, r.text
        yield service


async def year(service: RunningService, objective: str = "miglio-blu", fiscal_year: int = 2027) -> dict:
    async with service.client() as client:
        body = (await client.get(f"/v1/objectives/{objective}")).json()
    return next((y for y in body["years"] if y["fiscal_year"] == fiscal_year), {})


async def committed_becomes(service: RunningService, cents: int) -> dict:
    async def probe() -> dict | None:
        y = await year(service)
        return y if y.get("committed_cents") == cents else None

    return await eventually(probe, what=f"committed == {cents}")


async def test_definition_publishes_unfunded_status(objectives, broker):  # type: ignore[no-untyped-def]
    y = await year(objectives)
    assert y["status"] == "UNFUNDED" and y["need_cents"] == NEED
    defined = await kafka.read_all(broker.bootstrap_servers, topics.OBJECTIVES, expect=1)
    assert [e.type for e in defined] == ["ObjectiveDefined"]
    # How its money stands travels on a topic of its own, the coverage before the status.
    events = await kafka.read_all(broker.bootstrap_servers, topics.OBJECTIVES_COVERAGE, expect=2)
    assert [e.type for e in events] == ["ObjectiveCoverageChanged", "ObjectiveStatusChanged"]


async def test_cut_below_threshold_turns_at_risk_and_publishes_the_change(objectives, broker):  # type: ignore[no-untyped-def]
    bs = broker.bootstrap_servers
    await kafka.publish(
        bs,
        topics.FUNDING,
        [
            line_event("commit", "LIG-1", "miglio-blu", 700_000_00, 1),
            line_event(
                "commit",
                "COM-1",
                "miglio-blu",
                300_000_00,
                1,
                level=GovernmentLevel.COMUNE,
                institution="comune-spezia",
            ),
        ],
    )
    y = await committed_becomes(objectives, NEED)
    assert y["status"] == "FUNDED" and y["coverage_bp"] == 10_000
    assert y["committed_by_level"] == {"COMUNE": 300_000_00, "REGIONE": 700_000_00}

    await kafka.publish(bs, topics.FUNDING, [line_event("revise", "LIG-1", "miglio-blu", 400_000_00, 2)])
    y = await committed_becomes(objectives, 700_000_00)
    assert y["status"] == "AT_RISK" and y["coverage_pct"] == "70.00"

    events = await kafka.read_all(bs, topics.OBJECTIVES_COVERAGE, expect=6)
    changes = [
        (e.payload["previous_status"], e.payload["status"]) for e in events if e.type == "ObjectiveStatusChanged"
    ]
    assert changes[-1] == ("FUNDED", "AT_RISK")
    at_risk = [e for e in events if e.type == "ObjectiveStatusChanged"][-1]
    assert at_risk.causation_id is not None  # traceable to the funding event that caused it


async def test_duplicate_and_out_of_order_deliveries_change_nothing(objectives, broker, database: Database):  # type: ignore[no-untyped-def]
    v1 = line_event("commit", "LIG-1", "miglio-blu", 900_000_00, 1)
    v2 = line_event("revise", "LIG-1", "miglio-blu", 500_000_00, 2)
    v3 = line_event("revise", "LIG-1", "miglio-blu", 600_000_00, 3)
    # Newest first, then everything again: the version decides, with no inbox behind it
    # (consumer.idempotent_effect). A last line on the same partition (one key: the
    # objective) shows when all six were read.
    last = line_event("commit", "LIG-2", "miglio-blu", 1_00, 1)
    await kafka.publish(broker.bootstrap_servers, topics.FUNDING, [v3, v1, v2, v3, v1, v2, last])
    await committed_becomes(objectives, 600_000_00 + 1_00)

    assert (await year(objectives))["committed_cents"] == 600_000_00 + 1_00
    version = await database.fetchval("objectives", "SELECT line_version FROM line_allocations WHERE line_id = 'LIG-1'")
    assert version == 3
    # Only v3 moved the money: the older versions after it, and every repeat, changed nothing.
    history = await database.fetch(
        "objectives", "SELECT line_id, line_version FROM allocation_changes ORDER BY line_id, line_version"
    )
    assert [(r["line_id"], r["line_version"]) for r in history] == [("LIG-1", 3), ("LIG-2", 1)]
    assert (
        await database.fetchval("objectives", "SELECT count(*) FROM inbox WHERE consumer = 'objectives.funding'") == 0
    )


async def test_poison_message_is_dead_lettered_and_the_partition_moves_on(objectives, broker, database: Database):  # type: ignore[no-untyped-def]
    bs = broker.bootstrap_servers
    await kafka.publish(bs, topics.FUNDING, [b"{not json"], key=b"miglio-blu")
    bad_version = line_event("commit", "LIG-9", "miglio-blu", 1, 1).model_copy(update={"version": 99})
    await kafka.publish(bs, topics.FUNDING, [bad_version, line_event("commit", "LIG-2", "miglio-blu", 100_000_00, 1)])
    await committed_becomes(objectives, 100_000_00)

    rows = await database.fetch("objectives", "SELECT error FROM dead_letters ORDER BY id")
    assert len(rows) == 2
    assert "invalid envelope" in rows[0]["error"] and "version 99" in rows[1]["error"]
    dead = await kafka.read_records(bs, topics.dead_letter("objectives.funding"), expect=2)
    assert [r.value for r in dead] == [b"{not json", bad_version.to_json()]
    assert all(dict(r.headers)["error"] for r in dead)


async def test_money_for_an_undefined_objective_counts_once_it_is_defined(objectives, broker):  # type: ignore[no-untyped-def]
    await kafka.publish(
        broker.bootstrap_servers, topics.FUNDING, [line_event("commit", "LIG-7", "rete-lavoro", 50_000_00, 1)]
    )
    async with objectives.client(headers=ADMIN_HEADERS) as admin:

        async def defined_with_money() -> dict | None:
            r = await admin.post(
                "/v1/objectives",
                json={
                    "objective_id": "rete-lavoro",
                    "title": "Rete per il lavoro",
                    "needs": [{"fiscal_year": 2027, "need_cents": 100_000_00}],
                },
            )
            assert r.status_code in (200, 201), r.text
            y = await year(objectives, "rete-lavoro")
            return y if y.get("committed_cents") == 50_000_00 else None

        await eventually(defined_with_money, what="the early money counted")


async def test_bad_definitions_are_refused_naming_the_field(objectives, database: Database):  # type: ignore[no-untyped-def]
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post(
            "/v1/objectives",
            json={"objective_id": "x", "title": "X", "needs": [{"fiscal_year": 2027, "need_cents": 1.5}]},
        )
        assert r.status_code == 422 and r.json()["field"] == "needs.0.need_cents"
        r = await admin.post("/v1/objectives", json={"objective_id": "miglio-blu", "title": "Other"})
        assert r.status_code == 409
    async with objectives.client() as anonymous:
        r = await anonymous.post("/v1/objectives", json={"objective_id": "y", "title": "Y"})
        assert r.status_code == 401
    assert await database.fetchval("objectives", "SELECT count(*) FROM objectives") == 1


async def test_a_raised_need_can_put_an_objective_at_risk(objectives, broker, database: Database):  # type: ignore[no-untyped-def]
    await kafka.publish(
        broker.bootstrap_servers, topics.FUNDING, [line_event("commit", "LIG-1", "miglio-blu", NEED, 1)]
    )
    assert (await committed_becomes(objectives, NEED))["status"] == "FUNDED"
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.put("/v1/objectives/miglio-blu/needs/2027", json={"need_cents": 2 * NEED})
        assert r.status_code == 200, r.text
        assert r.json()["years"][0]["status"] == "AT_RISK"  # 50 % of the new need
        r = await admin.put("/v1/objectives/nope/needs/2027", json={"need_cents": 1})
        assert r.status_code == 404 and r.json()["error"] == "objective_not_found"
        r = await admin.put("/v1/objectives/miglio-blu/needs/2027", json={"need_cents": -1})
        assert r.status_code == 422 and r.json()["field"] == "need_cents"
    changes = await database.fetch(
        "objectives", "SELECT body FROM outbox WHERE type = 'ObjectiveStatusChanged' ORDER BY id"
    )
    assert len(changes) == 3  # UNFUNDED at definition, FUNDED, then AT_RISK


async def test_disbursements_and_reallocations_move_coverage_between_objectives(objectives, broker) -> None:  # type: ignore[no-untyped-def]
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post(
            "/v1/objectives",
            json={
                "objective_id": "rete-lavoro",
                "title": "Rete per il lavoro",
                "needs": [{"fiscal_year": 2027, "need_cents": 200_000_00}],
            },
        )
        assert r.status_code == 201
    await kafka.publish(
        broker.bootstrap_servers,
        topics.FUNDING,
        [
            line_event("commit", "LIG-1", "miglio-blu", NEED, 1),
            line_event("disburse", "LIG-1", "miglio-blu", NEED, 2, disbursed=100_000_00),
            line_event("reallocate", "LIG-1", "miglio-blu", NEED - 200_000_00, 3, disbursed=100_000_00),
            line_event("reallocate", "LIG-R", "rete-lavoro", 200_000_00, 1),
        ],
    )
    y = await committed_becomes(objectives, NEED - 200_000_00)
    assert (y["disbursed_cents"], y["status"]) == (100_000_00, "PARTIALLY_FUNDED")
    other = await eventually(lambda: _funded(objectives, "rete-lavoro"), what="the reallocated money counted")
    assert other["coverage_bp"] == 10_000


async def _funded(service: RunningService, objective: str) -> dict | None:
    y = await year(service, objective)
    return y if y.get("status") == "FUNDED" else None


async def test_a_year_with_no_need_is_no_need_and_money_on_it_is_over_commitment(
    objectives, broker, database: Database
):  # type: ignore[no-untyped-def]
    """Issue 17: a year with no need declared is NO_NEED, never FUNDED (it read
    "FINANZIATO 100 %"); money committed to it is flagged as over-commitment, as is money
    above a declared need."""
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.put("/v1/objectives/miglio-blu/needs/2028", json={"need_cents": 0})
        assert r.status_code == 200, r.text
    assert await year(objectives, fiscal_year=2028) == {}  # no need, no money: no status to tell

    await kafka.publish(
        broker.bootstrap_servers,
        topics.FUNDING,
        [
            line_event("commit", "LIG-28", "miglio-blu", 250_000_00, 1, year=2028),
            line_event("commit", "LIG-27", "miglio-blu", NEED + 50_000_00, 1),
        ],
    )

    async def both_applied() -> dict | None:
        y = await year(objectives, fiscal_year=2028)
        return y if y.get("committed_cents") == 250_000_00 and (await year(objectives)).get("committed_cents") else None

    y2028 = await eventually(both_applied, what="both lines applied")
    assert y2028["status"] == "NO_NEED" and y2028["need_cents"] == 0
    assert y2028["over_committed_cents"] == 250_000_00
    y2027 = await year(objectives)
    assert (y2027["status"], y2027["over_committed_cents"]) == ("FUNDED", 50_000_00)

    bodies = [
        json.loads(row["body"])
        for row in await database.fetch(
            "objectives", "SELECT body FROM outbox WHERE type = 'ObjectiveStatusChanged' ORDER BY id"
        )
    ]
    statuses = [(b["version"], b["payload"]["fiscal_year"], b["payload"]["status"]) for b in bodies]
    assert (2, 2028, "NO_NEED") in statuses
    assert all(version == 2 for version, _, _ in statuses)
    assert not [s for s in statuses if s[1] == 2028 and s[2] != "NO_NEED"]
