"""Plans in the objectives service against a real PostgreSQL and broker: the tree's rules,
roll-ups against hand-computed sums, lossless export, deletes that would orphan money
refused, and the annual review frozen against later changes."""

import asyncio
import dataclasses

import pytest

from regia_objectives.adapters.planfile import read_plan, write_plan
from regia_objectives.app import create_app
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.domain.tree import Node, NodeKind, Plan
from regia_shared.contracts import topics
from regia_shared.contracts.levels import GovernmentLevel

from ..support import kafka
from ..support.funding import line_event
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, RunningService, in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")
YAML = {"Content-Type": "application/yaml", **ADMIN_HEADERS}
PLAN = Plan("pgs-2008", "Piano Generale di Sviluppo", "Comune della Spezia", 92461, 2026, 2029, 80, 70)


def tree() -> list[Node]:
    return [
        Node("v1", "pgs-2008", None, NodeKind.VISION, "I grandi processi di trasformazione", position=0),
        Node("p1", "pgs-2008", "v1", NodeKind.PROGRAMME, "Waterfront", position=0),
        Node("o1", "pgs-2008", "p1", NodeKind.OBJECTIVE, "Porto turistico", 2, {2027: 600_00}, position=0),
        Node("a1", "pgs-2008", "o1", NodeKind.ACTION, "Banchine", 1, {2027: 400_00}, position=0),
        Node("o2", "pgs-2008", "p1", NodeKind.OBJECTIVE, "Stazione marittima", 1, {2027: 1000_00}, position=1),
    ]


@pytest.fixture
async def objectives(service_env, monkeypatch):  # type: ignore[no-untyped-def]
    # Pinned after the plan's 2027 and 2028, which the review test closes: a year's review
    # closes only once the year has ended.
    monkeypatch.setenv("REGIA_TODAY", "2029-01-15")
    async with in_process("objectives", create_app) as service:
        yield service


async def put_plan(service: RunningService, nodes: list[Node], plan: Plan = PLAN):  # type: ignore[no-untyped-def]
    async with service.client(headers=YAML) as admin:
        return await admin.post("/v1/plans/import", content=write_plan(PlanFile(plan, nodes, {})).encode())


async def node_year(service: RunningService, node_id: str, year: int = 2027) -> dict:
    async with service.client() as client:
        body = (await client.get(f"/v1/objectives/{node_id}")).json()
    return next((y for y in body["years"] if y["fiscal_year"] == year), {})


async def test_roll_ups_equal_hand_computed_sums(objectives, broker, database: Database) -> None:  # type: ignore[no-untyped-def]
    r = await put_plan(objectives, tree())
    assert r.status_code == 200, r.text
    assert r.json() == {"plan_id": "pgs-2008", "created": 5, "updated": 0, "unchanged": 0, "removed": 0}
    assert (await node_year(objectives, "p1"))["need_cents"] == 600_00 + 400_00 + 1000_00
    await kafka.publish(
        broker.bootstrap_servers,
        topics.FUNDING,
        [
            line_event("commit", "L-o1", "o1", 500_00, 1),
            line_event("commit", "L-a1", "a1", 400_00, 1, level=GovernmentLevel.COMUNE, institution="comune"),
            line_event("commit", "L-o2", "o2", 300_00, 1, level=GovernmentLevel.EU, institution="eu"),
        ],
    )

    async def rolled() -> dict | None:
        y = await node_year(objectives, "v1")
        return y if y.get("committed_cents") == 1200_00 else None

    vision = await eventually(rolled, what="the money rolled up to the vision")
    # Hand-computed: o1 holds 600+400 need and 500+400 money (its action included).
    o1 = await node_year(objectives, "o1")
    assert (o1["need_cents"], o1["committed_cents"], o1["status"]) == (1000_00, 900_00, "PARTIALLY_FUNDED")
    assert (vision["need_cents"], vision["coverage_bp"], vision["status"]) == (2000_00, 6000, "AT_RISK")
    assert vision["committed_by_level"] == {"COMUNE": 400_00, "EU": 300_00, "REGIONE": 500_00}
    a1 = await node_year(objectives, "a1")
    assert a1["single_level_dependency"] == "COMUNE"  # 100 % from one level, above the plan's 70 %
    async with objectives.client() as client:
        plan = (await client.get("/v1/plans/pgs-2008")).json()
    assert [n["node_id"] for n in plan["nodes"][0]["children"][0]["children"]] == ["o1", "o2"]
    plan_2027 = next(y for y in plan["years"] if y["fiscal_year"] == 2027)
    assert (plan_2027["need_cents"], plan_2027["committed_cents"], plan_2027["status"]) == (2000_00, 1200_00, "AT_RISK")
    assert [y["fiscal_year"] for y in plan["years"]] == [2026, 2027, 2028, 2029]
    on_coverage = await database.fetchval(
        "objectives", "SELECT count(*) FROM outbox WHERE topic = $1", topics.OBJECTIVES_COVERAGE
    )
    warnings = await kafka.read_all(broker.bootstrap_servers, topics.OBJECTIVES_COVERAGE, expect=on_coverage)
    assert {e.payload["objective_id"] for e in warnings if e.type == "SingleLevelDependencyDetected"} >= {"a1", "o2"}
    # The plan's single-level warning raised to 100 %: no node's own record changes (the
    # warning is the plan's), and every node's coverage is recomputed against it all the same.
    raised = dataclasses.replace(PLAN, single_level_warning_pct=100)
    assert (await put_plan(objectives, tree(), raised)).json()["updated"] == 0
    assert (await node_year(objectives, "a1"))["single_level_dependency"] is None


async def test_every_tree_problem_is_reported_at_once_and_nothing_is_written(objectives, database: Database) -> None:  # type: ignore[no-untyped-def]
    nodes = tree()
    nodes[1] = dataclasses.replace(nodes[1], kind=NodeKind.ACTION)  # an action above an objective
    nodes[4] = dataclasses.replace(nodes[4], needs={2040: 1})  # outside the plan's years
    text = write_plan(PlanFile(PLAN, nodes, {}))
    async with objectives.client(headers=YAML) as admin:
        r = await admin.post("/v1/plans/import", content=text.encode())
        assert r.status_code == 422, r.text
        assert len(r.json()["details"]) >= 2
        r = await admin.post("/v1/plans/import", content=b"plan: [unclosed")
        assert r.status_code == 422
    assert await database.fetchval("objectives", "SELECT count(*) FROM objectives") == 0
    assert await database.fetchval("objectives", "SELECT count(*) FROM plans") == 0


async def test_export_round_trips_and_reimport_changes_nothing(objectives) -> None:  # type: ignore[no-untyped-def]
    assert (await put_plan(objectives, tree())).status_code == 200
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        exported = (await admin.get("/v1/plans/pgs-2008/export")).text
        again = await admin.post("/v1/plans/import", content=exported.encode(), headers=YAML)
    assert again.json()["unchanged"] == 5 and again.json()["created"] == again.json()["updated"] == 0
    assert read_plan(exported) == PlanFile(PLAN, tree(), {})


async def test_money_that_waited_is_counted_and_changed_needs_replace_the_old_ones(  # type: ignore[no-untyped-def]
    objectives, broker, database: Database
) -> None:
    # Money for two nodes before the plan names them: one in a plan year, one in 2031, a year
    # outside the plan's (read for every node at once: allocations.years_of_any).
    await kafka.publish(
        broker.bootstrap_servers,
        topics.FUNDING,
        [line_event("commit", "L-o1", "o1", 250_00, 1), line_event("commit", "L-o2", "o2", 70_00, 1, year=2031)],
    )
    await eventually(lambda: _allocations(database, 2), what="the money waiting in the line projection")
    assert (await put_plan(objectives, tree())).status_code == 200
    assert (await node_year(objectives, "o1"))["committed_cents"] == 250_00
    assert (await node_year(objectives, "o2", 2031))["committed_cents"] == 70_00

    # o2's needs written again in one statement with the node (adapters.objectives): 2027
    # dropped, 2028 and 2029 added; o1's 2027 changed.
    nodes = tree()
    nodes[2] = dataclasses.replace(nodes[2], needs={2027: 650_00})
    nodes[4] = dataclasses.replace(nodes[4], needs={2028: 300_00, 2029: 200_00})
    r = await put_plan(objectives, nodes)
    assert r.json() == {"plan_id": "pgs-2008", "created": 0, "updated": 2, "unchanged": 3, "removed": 0}
    needs = await database.fetch(
        "objectives",
        "SELECT objective_id, fiscal_year, need_cents FROM objective_needs WHERE objective_id IN ('o1', 'o2')"
        " ORDER BY 1, 2",
    )
    assert [tuple(n) for n in needs] == [("o1", 2027, 650_00), ("o2", 2028, 300_00), ("o2", 2029, 200_00)]
    history = await database.fetch(
        "objectives",
        "SELECT objective_id, fiscal_year, need_cents FROM objective_need_changes"
        " WHERE objective_id IN ('o1', 'o2') ORDER BY id",
    )
    # The first import's needs, then the second's: the dropped year as 0, each change once.
    assert [tuple(h) for h in history] == [
        ("o1", 2027, 600_00),
        ("o2", 2027, 1000_00),
        ("o1", 2027, 650_00),
        ("o2", 2027, 0),
        ("o2", 2028, 300_00),
        ("o2", 2029, 200_00),
    ]
    assert (await node_year(objectives, "o2"))["need_cents"] == 0
    assert (await node_year(objectives, "o2", 2028))["need_cents"] == 300_00
    assert (await node_year(objectives, "p1", 2027))["need_cents"] == 650_00 + 400_00


async def test_a_node_moved_with_money_outside_the_plans_years_moves_it_in_every_year(  # type: ignore[no-untyped-def]
    objectives, broker, database: Database
) -> None:
    # a1, o1's action, is funded in 2031, a year outside the plan's: o1 holds it rolled up.
    assert (await put_plan(objectives, tree())).status_code == 200
    await kafka.publish(
        broker.bootstrap_servers, topics.FUNDING, [line_event("commit", "L-a1", "a1", 90_00, 1, year=2031)]
    )
    await eventually(lambda: _committed(objectives, "p1", 90_00, 2031), what="a1's money rolled up to p1")
    base = "/v1/plans/pgs-2008/nodes"
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post(base, json={"node_id": "p2", "kind": "PROGRAMME", "title": "Altro", "parent_id": "v1"})
        assert r.status_code == 201, r.text
        # o1 moves with a1 under p2: an edit recomputes what it moved (o1, the parent it left
        # and their ancestors), in every year they hold, the 2031 of a1's money included.
        assert (await admin.patch(f"{base}/o1", json={"parent_id": "p2"})).status_code == 200
    assert (await node_year(objectives, "p2", 2031))["committed_cents"] == 90_00
    assert (await node_year(objectives, "p1", 2031)).get("committed_cents", 0) == 0
    assert (await node_year(objectives, "v1", 2031))["committed_cents"] == 90_00


async def _allocations(database: Database, count: int) -> bool:
    return await database.fetchval("objectives", "SELECT count(*) FROM line_allocations") == count


async def test_a_node_that_money_points_at_cannot_be_dropped(objectives, broker, database: Database) -> None:  # type: ignore[no-untyped-def]
    assert (await put_plan(objectives, tree())).status_code == 200
    await kafka.publish(broker.bootstrap_servers, topics.FUNDING, [line_event("commit", "L-a1", "a1", 100, 1)])
    await eventually(lambda: _committed(objectives, "a1", 100), what="the action funded")
    r = await put_plan(objectives, [n for n in tree() if n.node_id != "a1"])
    assert r.status_code == 422 and "funding line" in r.text
    r = await put_plan(objectives, [n for n in tree() if n.node_id != "o2"])  # o2 has no money
    assert r.status_code == 200 and r.json()["removed"] == 1
    assert await database.fetchval("objectives", "SELECT count(*) FROM objectives") == 4


async def test_the_annual_review_is_frozen_exported_and_compared(objectives, broker, database: Database) -> None:  # type: ignore[no-untyped-def]
    assert (await put_plan(objectives, tree())).status_code == 200
    await kafka.publish(broker.bootstrap_servers, topics.FUNDING, [line_event("commit", "L-o2", "o2", 800_00, 1)])
    await eventually(lambda: _committed(objectives, "o2", 800_00), what="o2 funded")
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        closed = await admin.post("/v1/plans/pgs-2008/reviews/2027")
        assert closed.status_code == 201, closed.text
        assert closed.json()["committed_cents"] == 800_00
        assert (await admin.post("/v1/plans/pgs-2008/reviews/2027")).status_code == 409
        assert (await admin.post("/v1/plans/pgs-2008/reviews/2035")).status_code == 422
    await kafka.publish(broker.bootstrap_servers, topics.FUNDING, [line_event("revise", "L-o2", "o2", 100_00, 2)])
    await eventually(lambda: _committed(objectives, "o2", 100_00), what="o2 cut after the review")
    async with objectives.client() as client:
        frozen = (await client.get("/v1/plans/pgs-2008/reviews/2027")).json()
        csv_text = (await client.get("/v1/plans/pgs-2008/reviews/2027", params={"format": "csv"})).text
        html = (await client.get("/v1/plans/pgs-2008/reviews/2027", params={"format": "html"})).text
    assert [n["node_id"] for n in frozen["nodes"]] == ["v1", "p1", "o1", "a1", "o2"]  # the tree's order
    o2 = next(n for n in frozen["nodes"] if n["node_id"] == "o2")
    assert (o2["committed_cents"], o2["status"]) == (800_00, "PARTIALLY_FUNDED")  # not the later cut
    assert csv_text.splitlines()[0].startswith("node_id,parent_id,kind,title") and len(csv_text.splitlines()) == 6
    assert "Punto della situazione 2027" in html and "Stazione marittima" in html
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        assert (await admin.post("/v1/plans/pgs-2008/reviews/2028")).status_code == 201
        diff = (await admin.get("/v1/plans/pgs-2008/reviews/compare", params={"from": 2027, "to": 2028})).json()
    o2_diff = next(n for n in diff["nodes"] if n["node_id"] == "o2")
    assert o2_diff["need_delta_cents"] == -1000_00 and o2_diff["committed_delta_cents"] == -800_00
    on_objectives = await database.fetchval(
        "objectives", "SELECT count(*) FROM outbox WHERE topic = $1", topics.OBJECTIVES
    )
    published = await kafka.read_all(broker.bootstrap_servers, topics.OBJECTIVES, expect=on_objectives)
    assert [e.payload["fiscal_year"] for e in published if e.type == "AnnualReviewClosed"] == [2027, 2028]


async def _committed(service: RunningService, node: str, cents: int, year: int = 2027) -> bool:
    return (await node_year(service, node, year)).get("committed_cents") == cents


async def test_one_node_at_a_time_obeys_the_same_rules(objectives, broker, database: Database) -> None:  # type: ignore[no-untyped-def]
    assert (await put_plan(objectives, tree())).status_code == 200
    base = "/v1/plans/pgs-2008/nodes"
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        added = await asyncio.gather(
            *(
                admin.post(
                    base,
                    json={
                        "node_id": f"a{i}",
                        "kind": "ACTION",
                        "title": f"Azione {i}",
                        "parent_id": "o2",
                        "needs": {"2027": 100_00},
                    },
                )
                for i in (2, 3)
            )
        )
        assert [r.status_code for r in added] == [201, 201]  # concurrent edits: neither is lost
        assert (await node_year(objectives, "o2"))["need_cents"] == 1000_00 + 200_00
        r = await admin.patch(f"{base}/o1", json={"parent_id": "a1"})  # under its own action
        assert r.status_code == 422 and "cycle" in r.text and "cannot sit under" in r.text
        r = await admin.patch(f"{base}/a2", json={"parent_id": "o1"})
        assert r.status_code == 200, r.text
        assert (await node_year(objectives, "o1"))["need_cents"] == 600_00 + 400_00 + 100_00
        # The parent it left is recomputed too (an edit recomputes only what it moved).
        assert (await node_year(objectives, "o2"))["need_cents"] == 1000_00 + 100_00
        assert (await node_year(objectives, "p1"))["need_cents"] == 600_00 + 400_00 + 1000_00 + 200_00
        assert (await admin.delete(f"{base}/o2")).status_code == 409  # it still has a child
        await kafka.publish(broker.bootstrap_servers, topics.FUNDING, [line_event("commit", "L-a3", "a3", 1, 1)])
        await eventually(lambda: _committed(objectives, "a3", 1), what="a3 funded")
        assert (await admin.delete(f"{base}/a3")).status_code == 422  # money points at it
        assert (await admin.delete(f"{base}/a2")).status_code == 204
        assert (await admin.delete(f"{base}/nope")).status_code == 404
        assert (await admin.post(base, json={"node_id": "o1", "kind": "OBJECTIVE", "title": "x"})).status_code == 409
    ids = {r["objective_id"] for r in await database.fetch("objectives", "SELECT objective_id FROM objectives")}
    assert ids == {"v1", "p1", "o1", "a1", "o2", "a3"}
