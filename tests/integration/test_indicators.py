"""Indicators, milestones and progress in the objectives service against a real PostgreSQL
and broker: exact decimals end to end, roll-ups equal to hand-computed figures for a small
tree, events through the outbox, and refusals that name the field and write nothing.

The tree is made with `POST /v1/objectives` and then shaped (parent, kind, weight) with SQL,
because the plan endpoints are not wired in the composition root yet."""

import pytest
from fastapi import FastAPI

from regia_objectives.app import create_app
from regia_objectives.entrypoints.indicators_http import indicators_router
from regia_objectives.service_layer.indicators import progress_for_review
from regia_shared.contracts import topics

from ..support import kafka
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, RunningService, in_process

pytestmark = pytest.mark.usefixtures("service_env")
JSON = {"Content-Type": "application/json", **ADMIN_HEADERS}

# vision ─┬─ programme (weight 3) ─┬─ obj-a (weight 1)  jobs 1000 → 1200, now 1150: 3/4
#  own:   │                        └─ obj-b (weight 2)  unemployment 12 → 8 %, now 10: 1/2
#  visitors 100 → 200, now 250:                          (and one indicator with no target)
#  raw 3/2, clamped 1    └─ obj-c (weight 1)  no indicators: left out
TREE = [
    ("vision", None, "VISION", 1, 0),
    ("programme", "vision", "PROGRAMME", 3, 0),
    ("obj-a", "programme", "OBJECTIVE", 1, 0),
    ("obj-b", "programme", "OBJECTIVE", 2, 1),
    ("obj-c", "vision", "OBJECTIVE", 1, 1),
]


def with_indicators() -> FastAPI:
    app = create_app()
    if not any(getattr(r, "path", "") == "/v1/objectives/{objective_id}/progress" for r in app.routes):
        app.include_router(indicators_router())  # until the composition root includes it
    return app


@pytest.fixture
async def objectives(service_env, database: Database):  # type: ignore[no-untyped-def]
    async with in_process("objectives", with_indicators) as service:
        async with service.client(headers=ADMIN_HEADERS) as admin:
            for node_id, *_ in TREE:
                r = await admin.post("/v1/objectives", json={"objective_id": node_id, "title": node_id.title()})
                assert r.status_code == 201, r.text
        conn = await database.connect("objectives")
        try:
            await conn.executemany(
                "UPDATE objectives SET parent_id = $2, kind = $3, weight = $4, position = $5 WHERE objective_id = $1",
                TREE,
            )
        finally:
            await conn.close()
        yield service


def indicator(indicator_id: str, direction: str, baseline: str, targets: dict[int, str], **extra: object) -> dict:
    return {
        "indicator_id": indicator_id,
        "name": indicator_id.title(),
        "unit": "%",
        "direction": direction,
        "baseline": {"value": baseline, "year": 2020},
        "targets": [{"fiscal_year": y, "value": v} for y, v in targets.items()],
        **extra,
    }


async def define(admin, node: str, body: dict, *measurements: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    r = await admin.post(f"/v1/objectives/{node}/indicators", json=body)
    assert r.status_code == 201, r.text
    for measured_on, value in measurements:
        r = await admin.post(
            f"/v1/indicators/{body['indicator_id']}/measurements",
            json={"measured_on": measured_on, "value": value, "source": "ISTAT"},
        )
        assert r.status_code == 201, r.text


async def progress(service: RunningService, node: str, **query: object) -> dict:
    async with service.client() as client:
        r = await client.get(f"/v1/objectives/{node}/progress", params=query)
    assert r.status_code == 200, r.text
    return r.json()


async def test_roll_ups_equal_hand_computed_figures(objectives) -> None:  # type: ignore[no-untyped-def]
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        await define(
            admin,
            "obj-a",
            indicator("jobs", "INCREASING", "1000", {2025: "1200"}),
            ("2025-06-30", "1100"),
            ("2025-11-30", "1150"),
        )
        await define(admin, "obj-b", indicator("unemployment", "DECREASING", "12", {2025: "8"}), ("2025-10-01", "10"))
        await define(admin, "obj-b", indicator("firms", "INCREASING", "40", {2026: "50"}), ("2025-10-01", "42"))
        await define(admin, "vision", indicator("visitors", "INCREASING", "100", {2025: "200"}), ("2025-09-01", "250"))

    top = await progress(objectives, "vision", year=2025)
    assert (top["fiscal_year"], top["as_of"]) == (2025, "2025-12-31")
    programme, obj_c = top["children"]
    assert [c["objective_id"] for c in programme["children"]] == ["obj-a", "obj-b"]
    obj_a, obj_b = programme["children"]
    assert obj_a["progress"] == {"raw": "0.750000", "clamped": "0.750000", "reason": None}
    assert obj_b["progress"]["raw"] == "0.500000"
    assert (obj_b["indicators_counted"], obj_b["indicators_left_out"]) == (1, 1)
    assert [i["progress"]["reason"] for i in obj_b["indicators"]] == ["no target for 2025", None]
    # programme: (1·3/4 + 2·1/2) / 3 = 7/12
    assert programme["progress"]["raw"] == programme["progress"]["clamped"] == "0.583333"
    # vision: obj-c left out; its own indicator counts as a child of the counted mean weight 3:
    # raw (3·7/12 + 3·3/2) / 6 = 25/24, clamped (3·7/12 + 3·1) / 6 = 19/24
    assert top["progress"] == {"raw": "1.041667", "clamped": "0.791667", "reason": None}
    assert (top["children_counted"], top["children_left_out"], top["indicators_counted"]) == (1, 1, 1)
    assert obj_c["progress"]["reason"] == "no indicators and no children"
    assert top["indicators"][0]["actual"] == {
        "measured_on": "2025-09-01",
        "value": "250",
        "source": "ISTAT",
        "comment": None,
    }

    # As of mid-year only the first jobs figure was known: 100 / 200 = 1/2.
    mid = await progress(objectives, "programme", year=2025, as_of="2025-07-01")
    assert mid["children"][0]["progress"]["raw"] == "0.500000"
    assert (
        mid["children"][1]["progress"]["reason"]
        == "none of its 2 indicators and 0 children has progress for the period"
    )
    later = await progress(objectives, "vision", year=2027)
    assert later["progress"]["raw"] is None and later["children_left_out"] == 2
    async with objectives.client() as client:
        r = await client.get("/v1/objectives/nope/progress", params={"year": 2025})
        assert (r.status_code, r.json()["error"]) == (404, "objective_not_found")
        r = await client.get("/v1/objectives/vision/progress")
        assert (r.status_code, r.json()["field"]) == (422, "query.year")


async def test_the_annual_review_freezes_indicators_as_the_year_ended(objectives, database: Database) -> None:  # type: ignore[no-untyped-def]
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        await define(
            admin,
            "obj-a",
            indicator("jobs", "INCREASING", "1000", {2024: "1100", 2025: "1200"}),
            ("2024-12-31", "1050"),
            ("2025-03-31", "1300"),
        )
    conn = await database.connect("objectives")
    try:
        found = await progress_for_review(conn, ["obj-a", "obj-c"], 2024)
    finally:
        await conn.close()
    assert list(found) == ["obj-a"]
    (jobs,) = found["obj-a"]
    assert (jobs["target"], jobs["actual"]["value"], jobs["progress"]["raw"]) == ("1100", "1050", "0.500000")


async def test_values_stay_exact_decimals_from_json_to_database(objectives, database: Database) -> None:  # type: ignore[no-untyped-def]
    body = (
        '{"indicator_id": "rate", "name": "Tasso", "unit": "%", "direction": "INCREASING",'
        ' "baseline": {"value": 0.1, "year": 2020},'
        ' "targets": [{"fiscal_year": 2025, "value": 12345678901234.123456}]}'
    )
    async with objectives.client(headers=JSON) as admin:
        r = await admin.post("/v1/objectives/obj-a/indicators", content=body)
        assert r.status_code == 201, r.text
        assert r.json()["baseline"] == {"value": "0.1", "year": 2020}
        assert r.json()["targets"][0]["value"] == "12345678901234.123456"  # a float would keep 17 digits
        r = await admin.post("/v1/indicators/rate/measurements", content='{"measured_on": "2025-03-31", "value": 0.3}')
        assert r.status_code == 201, r.text
        again = await admin.post("/v1/objectives/obj-a/indicators", content=body)
        assert again.status_code == 200  # a retried definition changes nothing
    held = await database.fetchval("objectives", "SELECT value FROM indicator_measurements")
    assert str(held) == "0.300000"
    progress = r.json()["targets"][0]["progress"]["raw"]
    assert progress == "0.000000"  # 0.2 of 12345678901234.023456 to go: exact, then rounded
    indicators = await database.fetch("objectives", "SELECT body FROM outbox WHERE type = 'IndicatorMeasured'")
    assert len(indicators) == 1 and '"value":"0.3"' in indicators[0]["body"]


async def test_measurements_are_published_and_refusals_name_the_field_and_write_nothing(
    objectives, broker, database: Database
) -> None:  # type: ignore[no-untyped-def]
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        await define(admin, "obj-b", indicator("unemployment", "DECREASING", "12", {2025: "8", 2026: "7.5"}))
        refused = [
            (
                admin.post("/v1/objectives/nope/indicators", json=indicator("x", "INCREASING", "1", {})),
                404,
                "objective_id",
            ),
            (
                admin.post("/v1/objectives/obj-a/indicators", json=indicator("unemployment", "INCREASING", "1", {})),
                409,
                "indicator_id",
            ),
            (
                admin.post("/v1/objectives/obj-a/indicators", json=indicator("y", "DECREASING", "12", {2025: "13"})),
                422,
                "targets.0.value",
            ),
            (
                admin.post("/v1/objectives/obj-a/indicators", json=indicator("y", "SIDEWAYS", "12", {})),
                422,
                "direction",
            ),
            (admin.put("/v1/indicators/unemployment/targets/2027", json={"value": "12.5"}), 422, "value"),
            (admin.put("/v1/indicators/unemployment/targets/2019", json={"value": "8"}), 422, "fiscal_year"),
            (admin.put("/v1/indicators/unemployment/targets/2027", json={"value": "1.1234567"}), 422, "value"),
            (admin.put("/v1/indicators/nope/targets/2027", json={"value": "8"}), 404, "indicator_id"),
            (
                admin.post(
                    "/v1/indicators/unemployment/measurements", json={"measured_on": "2099-01-01", "value": "9"}
                ),
                422,
                "measured_on",
            ),
            (
                admin.post(
                    "/v1/indicators/unemployment/measurements", json={"measured_on": "2025-01-01", "value": "nove"}
                ),
                422,
                "value",
            ),
            (
                admin.post(
                    "/v1/indicators/unemployment/measurements",
                    content=b'{"measured_on": "2025-01-01", "value": NaN}',
                    headers=JSON,
                ),
                422,
                "body",
            ),
        ]
        for request, status, field in refused:
            r = await request
            assert (r.status_code, r.json()["field"]) == (status, field), r.text
        r = await admin.post(
            "/v1/indicators/unemployment/measurements",
            json={"measured_on": "2025-06-30", "value": "10", "source": "ISTAT"},
        )
        assert r.status_code == 201
        same = await admin.post(
            "/v1/indicators/unemployment/measurements",
            json={"measured_on": "2025-06-30", "value": "10.000", "source": "ISTAT"},
        )
        assert same.status_code == 200
        other = await admin.post(
            "/v1/indicators/unemployment/measurements", json={"measured_on": "2025-06-30", "value": "9"}
        )
        assert (other.status_code, other.json()["field"]) == (409, "measured_on")
    async with objectives.client() as anonymous:
        r = await anonymous.post(
            "/v1/indicators/unemployment/measurements", json={"measured_on": "2025-07-01", "value": "9"}
        )
        assert r.status_code == 401
        r = await anonymous.get("/v1/indicators/unemployment")
        assert [t["value"] for t in r.json()["targets"]] == ["8", "7.5"]
        assert [t["progress"]["raw"] for t in r.json()["targets"]] == ["0.500000", "0.444444"]
    assert await database.fetchval("objectives", "SELECT count(*) FROM indicators") == 1
    assert await database.fetchval("objectives", "SELECT count(*) FROM indicator_targets") == 2
    assert await database.fetchval("objectives", "SELECT count(*) FROM indicator_measurements") == 1

    expected = await database.fetchval("objectives", "SELECT count(*) FROM outbox WHERE topic = $1", topics.OBJECTIVES)
    events = await kafka.read_all(broker.bootstrap_servers, topics.OBJECTIVES, expect=expected)
    measured = [e for e in events if e.type == "IndicatorMeasured"]
    assert len(measured) == 1 and measured[0].key == "obj-b"
    assert {k: measured[0].payload[k] for k in ("value", "target_value", "progress", "fiscal_year")} == {
        "value": "10",
        "target_value": "8",
        "progress": "0.500000",
        "fiscal_year": 2025,
    }


async def test_milestones_are_reached_due_or_overdue_as_of_a_date(objectives, database: Database) -> None:  # type: ignore[no-untyped-def]
    protocol = {"milestone_id": "protocollo", "title": "Protocollo Comune, Regione, cantieri", "due_on": "2024-06-30"}
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post("/v1/objectives/obj-a/milestones", json=protocol)
        assert r.status_code == 201 and r.json()["status"] == "OVERDUE"
        assert (await admin.post("/v1/objectives/obj-a/milestones", json=protocol)).status_code == 200
        r = await admin.post("/v1/objectives/obj-a/milestones", json={**protocol, "title": "Other"})
        assert (r.status_code, r.json()["field"]) == (409, "milestone_id")
        r = await admin.post("/v1/objectives/nope/milestones", json=protocol)
        assert (r.status_code, r.json()["field"]) == (404, "objective_id")
        r = await admin.post(
            "/v1/objectives/obj-a/milestones", json={**protocol, "milestone_id": "m2", "due_on": "30/06/2024"}
        )
        assert (r.status_code, r.json()["field"]) == (422, "due_on")
        for bad, field in (({"reached_on": "2099-01-01"}, "reached_on"), ({"title": None}, "title"), ({}, "body")):
            r = await admin.patch("/v1/milestones/protocollo", json=bad)
            assert (r.status_code, r.json()["field"]) == (422, field), r.text
        r = await admin.patch("/v1/milestones/nope", json={"reached_on": "2024-07-10"})
        assert (r.status_code, r.json()["field"]) == (404, "milestone_id")

        r = await admin.patch("/v1/milestones/protocollo", json={"reached_on": "2024-07-10"})
        assert r.status_code == 200 and r.json()["status"] == "REACHED"
        await admin.patch("/v1/milestones/protocollo", json={"reached_on": "2024-07-09"})  # a correction
    async with objectives.client() as anonymous:
        r = await anonymous.get("/v1/objectives/obj-a/milestones", params={"as_of": "2024-06-01"})
        assert [(m["milestone_id"], m["status"]) for m in r.json()] == [("protocollo", "DUE")]
        r = await anonymous.get("/v1/objectives/obj-a/milestones", params={"as_of": "2024-07-01"})
        assert r.json()[0]["status"] == "OVERDUE"  # as it stood then: reached only on the 9th
        assert (await anonymous.patch("/v1/milestones/protocollo", json={"reached_on": None})).status_code == 401
    reached = await database.fetch("objectives", "SELECT body FROM outbox WHERE type = 'MilestoneReached'")
    assert len(reached) == 1 and '"days_late":10' in reached[0]["body"]
    assert await database.fetchval("objectives", "SELECT count(*) FROM milestones") == 1
