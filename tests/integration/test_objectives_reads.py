"""Issue 18's reads of the objectives service against a real PostgreSQL and broker: the
objective document without lines, the history of changes (paged), coverage as of a date,
the filtered, searched and paged list, and the plan tree with capped roll-ups and filters."""

import asyncio
from datetime import UTC, datetime

import pytest

from regia_objectives.adapters.planfile import write_plan
from regia_objectives.app import create_app
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.domain.tree import Node, NodeKind, Plan
from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.funding import FundingCommitted, FundingRevised
from regia_shared.contracts.levels import GovernmentLevel

from ..support import kafka
from ..support.funding import line_event
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, RunningService, in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")
MILLION = 1_000_000_00  # € 1,000,000.00 in cents
YAML = {"Content-Type": "application/yaml", **ADMIN_HEADERS}


@pytest.fixture
async def objectives(service_env):  # type: ignore[no-untyped-def]
    async with in_process("objectives", create_app) as service:
        yield service


async def define(service: RunningService, objective_id: str, title: str, need: int, year: int = 2027) -> None:
    async with service.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post(
            "/v1/objectives",
            json={
                "objective_id": objective_id,
                "title": title,
                "at_risk_threshold_pct": 80,
                "needs": [{"fiscal_year": year, "need_cents": need}],
            },
        )
        assert r.status_code == 201, r.text


def liguria(kind: type, version: int, committed: int, reason: str) -> Envelope:
    payload = kind(
        line_id="LIG-2027-001",
        institution_id="regione-liguria",
        level=GovernmentLevel.REGIONE,
        objective_id="miglio-blu",
        fiscal_year=2027,
        committed_cents=committed,
        disbursed_cents=0,
        line_version=version,
        delta_cents=0,
        reason=reason,
    )
    return Envelope.wrap(payload, key="miglio-blu", producer="funding", correlation_id=f"corr-{version}")


async def document(service: RunningService, objective_id: str, **params: str) -> dict:
    async with service.client() as client:
        r = await client.get(f"/v1/objectives/{objective_id}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def committed_becomes(service: RunningService, objective_id: str, cents: int) -> dict:
    async def probe() -> dict | None:
        years = (await document(service, objective_id))["years"]
        return years[0] if years and years[0]["committed_cents"] == cents else None

    return await eventually(probe, what=f"{objective_id} committed == {cents}")


async def test_the_document_says_why_and_what_it_takes_and_the_history_pages(  # type: ignore[no-untyped-def]
    objectives, broker, database: Database
):
    """The README's story: Regione Liguria commits €4.5M to a €5M need, then cuts it to €3M."""
    await define(objectives, "miglio-blu", "Il Miglio Blu", 5 * MILLION)
    bs = broker.bootstrap_servers
    await kafka.publish(bs, topics.FUNDING, [liguria(FundingCommitted, 1, 450 * MILLION // 100, "DGR cofinanziamento")])
    await committed_becomes(objectives, "miglio-blu", 450 * MILLION // 100)
    between = datetime.now(UTC)
    await asyncio.sleep(0.05)
    cut = liguria(FundingRevised, 2, 3 * MILLION, "Assestamento di bilancio")
    await kafka.publish(bs, topics.FUNDING, [cut, cut])  # a repeat records nothing more
    year = await committed_becomes(objectives, "miglio-blu", 3 * MILLION)

    body = await document(objectives, "miglio-blu")
    assert "lines" not in body and body["as_of"] is None
    assert (year["need_cents"], year["coverage_pct"], year["status"]) == (5 * MILLION, "60.00", "AT_RISK")
    assert (year["gap_to_threshold_cents"], year["gap_to_full_cents"]) == (MILLION, 2 * MILLION)
    assert (year["counted_cents"], year["surplus_cents"], year["line_count"]) == (3 * MILLION, 0, 1)
    assert year["committed_by_level"] == {"REGIONE": 3 * MILLION}
    assert year["by_institution"] == [
        {
            "institution_id": "regione-liguria",
            "level": "REGIONE",
            "committed_cents": 3 * MILLION,
            "disbursed_cents": 0,
            "line_count": 1,
        }
    ]
    assert datetime.fromisoformat(year["status_since"]) > between  # it went AT_RISK with the cut
    last = year["last_change"]
    assert {k: last[k] for k in ("line_id", "institution_id", "level", "kind", "reason", "correlation_id")} == {
        "line_id": "LIG-2027-001",
        "institution_id": "regione-liguria",
        "level": "REGIONE",
        "kind": "FundingRevised",
        "reason": "Assestamento di bilancio",
        "correlation_id": "corr-2",
    }
    assert (last["delta_cents"], last["committed_before_cents"], last["committed_after_cents"]) == (
        -150 * MILLION // 100,
        450 * MILLION // 100,
        3 * MILLION,
    )

    async with objectives.client() as client:
        first = await client.get("/v1/objectives/miglio-blu/changes", params={"limit": 1})
        assert first.status_code == 200, first.text
        page1 = first.json()
        assert [(c["line_version"], c["kind"], c["delta_cents"]) for c in page1["items"]] == [
            (2, "FundingRevised", -150 * MILLION // 100)
        ]
        assert page1["next_cursor"] and 'rel="next"' in first.headers["link"]
        page2 = (
            await client.get("/v1/objectives/miglio-blu/changes", params={"limit": 1, "cursor": page1["next_cursor"]})
        ).json()
        assert [
            (c["line_version"], c["committed_before_cents"], c["committed_after_cents"]) for c in page2["items"]
        ] == [(1, 0, 450 * MILLION // 100)]
        assert page2["next_cursor"] is None
        other = await client.get("/v1/objectives/miglio-blu/changes", params={"fiscal_year": 2028})
        assert other.json() == {"items": [], "next_cursor": None}
        wrong = await client.get(
            "/v1/objectives/miglio-blu/changes", params={"fiscal_year": 2027, "cursor": page1["next_cursor"]}
        )
        assert (wrong.status_code, wrong.json()["field"]) == (422, "cursor")
        missing = await client.get("/v1/objectives/nope/changes")
        assert (missing.status_code, missing.json()["error"]) == (404, "objective_not_found")

    rows = await database.fetch("objectives", "SELECT line_version, kind FROM allocation_changes ORDER BY line_version")
    assert [(r["line_version"], r["kind"]) for r in rows] == [(1, "FundingCommitted"), (2, "FundingRevised")]

    # As of between the two: €4.5M of €5M, 90 %, nothing missing to the threshold.
    then = (await document(objectives, "miglio-blu", as_of=between.isoformat()))["years"][0]
    assert (then["committed_cents"], then["status"], then["gap_to_threshold_cents"]) == (
        450 * MILLION // 100,
        "PARTIALLY_FUNDED",
        0,
    )
    assert then["last_change"]["kind"] == "FundingCommitted" and then["status_since"] is None
    assert (await document(objectives, "miglio-blu", as_of="2001-01-01"))["years"] == []
    async with objectives.client() as client:
        bad = await client.get("/v1/objectives/miglio-blu", params={"as_of": "yesterday"})
    assert (bad.status_code, bad.json()["field"]) == (422, "query.as_of")


async def test_the_list_filters_searches_sorts_by_gap_and_pages(objectives, broker, database: Database):  # type: ignore[no-untyped-def]
    # a-empty: UNFUNDED (the one the old list returned first for ?status=AT_RISK)
    await define(objectives, "a-empty", "Nothing yet", MILLION)
    await define(objectives, "b-short", "Banchine del Miglio Blu", MILLION)  # 50 %: AT_RISK, gap €300k
    await define(objectives, "c-full", "Cantieri", MILLION)  # FUNDED
    await define(objectives, "d-shorter", "Darsena", 2 * MILLION)  # 10 %: AT_RISK, gap €1.4M
    await kafka.publish(
        broker.bootstrap_servers,
        topics.FUNDING,
        [
            line_event("commit", "B-1", "b-short", 50 * MILLION // 100, 1),
            line_event("commit", "C-1", "c-full", MILLION, 1, level=GovernmentLevel.COMUNE, institution="comune"),
            line_event("commit", "D-1", "d-shorter", 20 * MILLION // 100, 1),
        ],
    )
    await committed_becomes(objectives, "d-shorter", 20 * MILLION // 100)
    await committed_becomes(objectives, "b-short", 50 * MILLION // 100)
    await committed_becomes(objectives, "c-full", MILLION)
    conn = await database.connect("objectives")
    try:
        await conn.execute("INSERT INTO node_leads VALUES ('d-shorter', 'comune-spezia', now())")
    finally:
        await conn.close()

    async with objectives.client() as client:

        async def listed(**params: object) -> dict:
            r = await client.get("/v1/objectives", params=params)
            assert r.status_code == 200, r.text
            return r.json()

        def ids(body: dict) -> list[str]:
            return [o["objective_id"] for o in body["items"]]

        everything = await listed()
        assert ids(everything) == ["a-empty", "b-short", "c-full", "d-shorter"]
        assert everything["next_cursor"] is None
        # The issue: ?status=AT_RISK used to be ignored and answered a-empty (UNFUNDED) first.
        at_risk = await listed(status="AT_RISK")
        assert ids(at_risk) == ["b-short", "d-shorter"]
        assert [y["status"] for o in at_risk["items"] for y in o["years"]] == ["AT_RISK", "AT_RISK"]
        by_gap = await listed(status="AT_RISK", sort="gap")
        assert ids(by_gap) == ["d-shorter", "b-short"]
        assert [o["years"][0]["gap_to_threshold_cents"] for o in by_gap["items"]] == [
            140 * MILLION // 100,
            30 * MILLION // 100,
        ]
        assert ids(await listed(sort="gap", fiscal_year=2027)) == ["d-shorter", "a-empty", "b-short", "c-full"]
        assert ids(await listed(q="miglio BLU")) == ["b-short"]
        assert ids(await listed(q="%")) == []  # a literal percent sign, not a wildcard
        assert ids(await listed(lead="comune-spezia")) == ["d-shorter"]
        assert ids(await listed(fiscal_year=2028)) == []
        assert (await listed(lead="comune-spezia"))["items"][0]["lead"] == "comune-spezia"
        assert ids(await listed(status="FUNDED", q="cant")) == ["c-full"]

        one = await listed(limit=3)
        assert ids(one) == ["a-empty", "b-short", "c-full"] and one["next_cursor"]
        two = await listed(limit=3, cursor=one["next_cursor"])
        assert ids(two) == ["d-shorter"] and two["next_cursor"] is None
        gap1 = await listed(limit=1, sort="gap", status="AT_RISK")
        gap2 = await listed(limit=1, sort="gap", status="AT_RISK", cursor=gap1["next_cursor"])
        assert ids(gap1) + ids(gap2) == ["d-shorter", "b-short"] and gap2["next_cursor"] is None

        wrong = await client.get("/v1/objectives", params={"status": "AT_RISK", "cursor": one["next_cursor"]})
        assert (wrong.status_code, wrong.json()["field"]) == (422, "cursor")
        unknown = await client.get("/v1/objectives", params={"status": "AT-RISK"})
        assert (unknown.status_code, unknown.json()["field"]) == (422, "query.status")
        bad_sort = await client.get("/v1/objectives", params={"sort": "coverage"})
        assert (bad_sort.status_code, bad_sort.json()["field"]) == (422, "query.sort")

        # As of before any money: b-short and d-shorter were UNFUNDED, nothing AT_RISK.
        before = await listed(as_of="2001-01-01")
        assert ids(before) == [] and before["next_cursor"] is None
        now = datetime.now(UTC).isoformat()
        assert ids(await listed(status="AT_RISK", as_of=now)) == ["b-short", "d-shorter"]
        refused = await client.get("/v1/objectives", params={"sort": "gap", "as_of": now})
        assert (refused.status_code, refused.json()["field"]) == (422, "sort")


def first_difference(a: object, b: object, path: str = "") -> str | None:
    """Where two JSON documents first differ, for an assertion's message."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            found = first_difference(a.get(k), b.get(k), f"{path}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return next(
            (f for i, (x, y) in enumerate(zip(a, b, strict=True)) if (f := first_difference(x, y, f"{path}[{i}]"))),
            None,
        )
    return None if a == b else f"{path}: {a!r} != {b!r}"


def plan_nodes() -> list[Node]:
    return [
        Node("v", "pgs", None, NodeKind.VISION, "Visione"),
        Node("p", "pgs", "v", NodeKind.PROGRAMME, "Waterfront", position=0),
        Node("a1", "pgs", "p", NodeKind.ACTION, "Banchine", 1, {2027: MILLION}, position=0),
        Node("a2", "pgs", "p", NodeKind.ACTION, "Pontili", 1, {2027: MILLION}, position=1),
        Node("p2", "pgs", "v", NodeKind.PROGRAMME, "Lavoro", position=1),
        Node("a3", "pgs", "p2", NodeKind.ACTION, "Formazione", 1, {2027: MILLION}, position=0),
    ]


async def test_the_plan_tree_caps_each_childs_money_and_filters_keep_paths(  # type: ignore[no-untyped-def]
    objectives, broker, database: Database
):
    plan = Plan("pgs", "Piano", "La Spezia", 92461, 2026, 2028, 80, 70)
    async with objectives.client(headers=YAML) as admin:
        r = await admin.post("/v1/plans/import", content=write_plan(PlanFile(plan, plan_nodes(), {})).encode())
        assert r.status_code == 200, r.text
    before_money = datetime.now(UTC)
    await asyncio.sleep(0.05)
    await kafka.publish(
        broker.bootstrap_servers,
        topics.FUNDING,
        [
            line_event("commit", "A1-1", "a1", 808 * MILLION // 100, 1),
            line_event("commit", "A3-1", "a3", MILLION, 1, level=GovernmentLevel.COMUNE, institution="comune"),
        ],
    )
    await committed_becomes(objectives, "p2", MILLION)
    await committed_becomes(objectives, "v", 908 * MILLION // 100)
    conn = await database.connect("objectives")
    try:
        await conn.execute("INSERT INTO node_leads VALUES ('a2', 'comune-spezia', now())")
    finally:
        await conn.close()

    # The programme: €8.08M committed, but a1 counts up to its €1M need and a2 has nothing.
    p = (await document(objectives, "p"))["years"][0]
    assert (p["need_cents"], p["committed_cents"], p["counted_cents"], p["surplus_cents"]) == (
        2 * MILLION,
        808 * MILLION // 100,
        MILLION,
        708 * MILLION // 100,
    )
    assert (p["coverage_pct"], p["status"], p["gap_to_threshold_cents"], p["gap_to_full_cents"]) == (
        "50.00",
        "AT_RISK",
        60 * MILLION // 100,
        MILLION,
    )
    assert p["line_count"] == 1 and p["by_institution"][0]["committed_cents"] == 808 * MILLION // 100
    assert p["last_change"]["line_id"] == "A1-1"  # carried up from the action
    async with objectives.client() as client:
        changes = (await client.get("/v1/objectives/v/changes")).json()["items"]
    assert sorted(c["line_id"] for c in changes) == ["A1-1", "A3-1"]

    async def tree(**params: object) -> dict:
        async with objectives.client() as client:
            r = await client.get("/v1/plans/pgs", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def rows(nodes: list[dict]) -> dict[str, dict]:
        found = {}
        for n in nodes:
            found[n["node_id"]] = n
            found.update(rows(n["children"]))
        return found

    whole = rows((await tree(fiscal_year=2027))["nodes"])
    assert set(whole) == {"v", "p", "a1", "a2", "p2", "a3"}
    v = whole["v"]["years"][0]
    assert (v["need_cents"], v["counted_cents"], v["surplus_cents"], v["status"]) == (
        3 * MILLION,
        2 * MILLION,
        708 * MILLION // 100,
        "AT_RISK",
    )
    assert whole["a2"]["lead"] == "comune-spezia" and whole["p"]["kind"] == "PROGRAMME"
    plan_year = (await tree(fiscal_year=2027))["years"]
    assert [(y["fiscal_year"], y["counted_cents"], y["status"]) for y in plan_year] == [(2027, 2 * MILLION, "AT_RISK")]

    at_risk = rows((await tree(only_at_risk=True))["nodes"])
    assert set(at_risk) == {"v", "p"} and all(n["matches"] for n in at_risk.values())
    led = rows((await tree(lead="comune-spezia"))["nodes"])
    assert set(led) == {"v", "p", "a2"} and [k for k, n in led.items() if n["matches"]] == ["a2"]
    comune = rows((await tree(level="COMUNE"))["nodes"])
    assert set(comune) == {"v", "p2", "a3"}
    async with objectives.client() as client:
        r = await client.get("/v1/plans/pgs", params={"level": "GALAXY"})
    assert (r.status_code, r.json()["field"]) == (422, "query.level")

    # The tree PostgreSQL writes (now) and the one Python writes (as_of, recomputed from
    # the history) are the same document, filters and all; but for the single-level
    # warning, which coverage as of a date does not recompute (null there).
    def without_warning(rows: list[dict]) -> list[dict]:
        return [
            {
                **n,
                "years": [{**y, "single_level_dependency": None} for y in n["years"]],
                "children": without_warning(n["children"]),
            }
            for n in rows
        ]

    now = datetime.now(UTC).isoformat()
    assert whole["a1"]["years"][0]["single_level_dependency"] == "REGIONE"
    for params in ({}, {"fiscal_year": 2027}, {"only_at_risk": True}, {"lead": "comune-spezia", "level": "REGIONE"}):
        written_by_sql, written_in_python = await tree(**params), await tree(as_of=now, **params)
        assert written_by_sql["as_of"] is None and written_in_python["as_of"] is not None
        written_by_sql["nodes"] = without_warning(written_by_sql["nodes"])
        assert {**written_by_sql, "as_of": None} == {**written_in_python, "as_of": None}, (
            params,
            first_difference(written_by_sql["nodes"], written_in_python["nodes"]),
        )

    earlier = rows((await tree(as_of=before_money.isoformat(), fiscal_year=2027))["nodes"])
    assert (earlier["v"]["years"][0]["committed_cents"], earlier["v"]["years"][0]["status"]) == (0, "UNFUNDED")

    async with objectives.client() as client:
        plans = (await client.get("/v1/plans")).json()
    assert [p["plan_id"] for p in plans["items"]] == ["pgs"] and plans["next_cursor"] is None

    # A deployment upgraded from before: the programme stored as the old roll-up had it,
    # and no totals by institution. The rebuild puts both right.
    conn = await database.connect("objectives")
    try:
        await conn.execute(
            "UPDATE coverage SET counted_cents = NULL, status = 'FUNDED', coverage_bp = 40400 WHERE objective_id = 'p'"
        )
        await conn.execute("DELETE FROM institution_totals")
    finally:
        await conn.close()
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post("/v1/admin/rebuild/coverage")
        assert r.status_code == 200 and r.json()["lines"] == 2, r.text
    p = (await document(objectives, "p"))["years"][0]
    assert (p["status"], p["counted_cents"], p["coverage_pct"]) == ("AT_RISK", MILLION, "50.00")
    assert [(f["institution_id"], f["committed_cents"]) for f in p["by_institution"]] == [
        ("regione-liguria", 808 * MILLION // 100)
    ]

    # A tree read again is the copy the service kept for the plan's version (gzip'd once);
    # money, a lead, a title each move the version, and the next read shows them.
    kept = await tree(fiscal_year=2027)
    async with objectives.client() as client:
        r = await client.get("/v1/plans/pgs", params={"fiscal_year": 2027}, headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.json() == kept
    await kafka.publish(broker.bootstrap_servers, topics.FUNDING, [line_event("commit", "A2-1", "a2", MILLION // 2, 1)])
    await committed_becomes(objectives, "a2", MILLION // 2)
    moved = rows((await tree(fiscal_year=2027))["nodes"])
    assert moved["a2"]["years"][0]["committed_cents"] == MILLION // 2
    assert moved["p"]["years"][0]["counted_cents"] == 150 * MILLION // 100
    conn = await database.connect("objectives")
    try:
        await conn.execute("UPDATE node_leads SET partner_id = 'comune-sarzana' WHERE objective_id = 'a2'")
        await conn.execute("UPDATE objectives SET title = 'Pontili nuovi' WHERE objective_id = 'a2'")
    finally:
        await conn.close()
    renamed = rows((await tree(fiscal_year=2027))["nodes"])["a2"]
    assert (renamed["lead"], renamed["title"]) == ("comune-sarzana", "Pontili nuovi")
