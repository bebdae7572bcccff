"""Open data on the real stack (issue 19): a plan imported into objectives, money pushed to
funding by two institutions' keys (commitments, a cut, payments), and the three files read
anonymously: funding's IATI file is valid against the official IATI 2.03 schema, has every
entry with its own reason, and its transactions add up to the ledger's totals per
objective, to the cent; the CSVs carry the same money and no operational field."""

import csv
import io
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from regia_objectives.adapters.planfile import write_plan
from regia_objectives.app import create_app as objectives_app
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.domain.tree import Node, NodeKind, Plan

from ..support.funding_api import commitment, issue_key
from ..support.services import ADMIN_HEADERS, RunningService, in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")
SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "iati" / "iati-activities-schema.xsd"
MILLION = 1_000_000_00
ORG = "IT-CF-00211160114"


@pytest.fixture(autouse=True)
def reporting_org(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before funding starts (autouse fixtures come first): the IATI file's publisher."""
    monkeypatch.setenv("REGIA_OPEN_DATA_ORG_REF", ORG)
    monkeypatch.setenv("REGIA_OPEN_DATA_ORG_NAME", "Comune della Spezia")


@pytest.fixture
async def objectives(funding) -> AsyncIterator[RunningService]:  # type: ignore[no-untyped-def]
    async with in_process("objectives", objectives_app) as service:
        yield service


def plan_file() -> bytes:
    plan = Plan("spezia-2019", "Il Miglio Blu", "La Spezia", 92461, 2026, 2028)
    nodes = [
        Node("vision-2019", "spezia-2019", None, NodeKind.VISION, "La Spezia per la Nautica"),
        Node("miglio-blu", "spezia-2019", "vision-2019", NodeKind.OBJECTIVE, "Il Miglio Blu", 1, {2027: 5 * MILLION}),
        Node("rete-lavoro", "spezia-2019", "vision-2019", NodeKind.OBJECTIVE, "Rete lavoro", 1, {2027: MILLION}),
    ]
    return write_plan(PlanFile(plan, nodes, {})).encode()


async def seed(funding: RunningService, objectives: RunningService) -> None:
    async with objectives.client(headers={"Content-Type": "application/yaml", **ADMIN_HEADERS}) as admin:
        r = await admin.post("/v1/plans/import", content=plan_file())
        assert r.status_code == 200, r.text
    liguria, spezia = await issue_key(funding, "regione-liguria"), await issue_key(funding, "comune-spezia")
    events = [
        (liguria, commitment("LIG-1", 450 * MILLION // 100, reason="DGR 1/2027 & <cofinanziamento>")),
        (liguria, commitment("LIG-2", MILLION, instrument_id="bilancio-regionale", reason="=SUM(A1)")),
        (liguria, {"type": "revision", "line_id": "LIG-1", "committed_cents": 3 * MILLION, "reason": "Assestamento"}),
        (liguria, {"type": "disbursement", "line_id": "LIG-1", "amount_cents": 1_234_567, "reason": "SAL 1"}),
        (liguria, {"type": "disbursement", "line_id": "LIG-1", "amount_cents": 33, "reason": "SAL 2"}),
        (
            spezia,
            commitment("SP-1", 250_000_00, instrument_id="bilancio-comunale", objective_id="rete-lavoro"),
        ),
        (spezia, {"type": "disbursement", "line_id": "SP-1", "amount_cents": 100_000_00}),
    ]
    async with funding.client() as client:
        for i, (key, event) in enumerate(events):
            r = await client.post("/v1/funding-events", json=event, headers={**key, "Idempotency-Key": f"o-{i}"})
            assert r.status_code == 202, r.text


async def ledger_totals(funding: RunningService) -> dict[str, tuple[int, int]]:
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.get("/v1/totals", params={"by": "objective"})
    assert r.status_code == 200, r.text
    return {row["objective_id"]: (row["committed_cents"], row["disbursed_cents"]) for row in r.json()}


def cents(value: str) -> int:
    return int(Decimal(value) * 100)


async def test_the_iati_file_validates_and_adds_up_to_the_ledger(funding, objectives) -> None:  # type: ignore[no-untyped-def]
    await seed(funding, objectives)
    ledger = await ledger_totals(funding)
    assert ledger == {"miglio-blu": (4 * MILLION, 1_234_600), "rete-lavoro": (250_000_00, 100_000_00)}
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))

    async def projected() -> bytes | None:
        async with funding.client() as anonymous:  # no credential at all
            r = await anonymous.get("/v1/open/iati-activities.xml")
        assert r.status_code == 200, r.text
        tree = etree.fromstring(r.content)
        sums: dict[str, tuple[int, int]] = {}
        for activity in tree.findall("iati-activity"):
            committed = disbursed = 0
            for t in activity.findall("transaction"):
                value = cents(t.findtext("value") or "")
                if t.find("transaction-type").get("code") == "2":
                    committed += value
                else:
                    disbursed += value
            if committed or disbursed:
                objective = (activity.findtext("iati-identifier") or "").removeprefix(f"{ORG}-")
                sums[objective] = (committed, disbursed)
        # Funding learns the plan's tree from the objectives service's events.
        tree_known = f"{ORG}-vision-2019" in {a.findtext("iati-identifier") for a in tree.findall("iati-activity")}
        return r.content if sums == ledger and tree_known else None

    tree = etree.fromstring(
        await eventually(projected, what="the IATI file has the plan's tree and the ledger's totals")
    )
    assert schema.validate(tree), schema.error_log
    activities = {a.findtext("iati-identifier"): a for a in tree.findall("iati-activity")}
    assert set(activities) == {f"{ORG}-vision-2019", f"{ORG}-miglio-blu", f"{ORG}-rete-lavoro"}
    miglio = activities[f"{ORG}-miglio-blu"]
    assert miglio.find("reporting-org").get("ref") == ORG
    assert [(p.get("ref"), p.get("role")) for p in miglio.findall("participating-org")] == [
        ("regione-liguria", "1"),
        (ORG, "3"),
    ]
    assert [b.findtext("value") for b in miglio.findall("budget")] == ["5000000.00"]
    reasons = [t.findtext("description/narrative") for t in miglio.findall("transaction")]
    # Every entry with its own reason, in the order the ledger recorded them.
    assert reasons == [
        "LIG-1 (2027): DGR 1/2027 & <cofinanziamento>",
        "LIG-2 (2027): =SUM(A1)",
        "LIG-1 (2027): Assestamento",
        "LIG-1 (2027): SAL 1",
        "LIG-1 (2027): SAL 2",
    ]
    assert [p.findtext("narrative") for p in miglio.findall("participating-org")] == [
        "Regione Liguria",
        "Comune della Spezia",
    ]
    assert [(r.get("ref"), r.get("type")) for r in miglio.findall("related-activity")] == [(f"{ORG}-vision-2019", "1")]

    async with funding.client() as anonymous:
        one_plan = await anonymous.get("/v1/open/iati-activities.xml", params={"plan_id": "nope"})
    assert one_plan.status_code == 200 and b"<iati-activity" not in one_plan.content
    async with objectives.client() as anonymous:
        # Objectives projects the ledger's events as they arrive: wait until it has them all
        # (the IATI file above is funding's, which had them when it answered).
        async def every_line_projected() -> list[dict] | None:
            text = (await anonymous.get("/v1/open/objectives.csv")).text
            found = list(csv.DictReader(io.StringIO(text)))
            vision = [r for r in found if (r["objective_id"], r["fiscal_year"]) == ("vision-2019", "2027")]
            return found if vision and vision[0]["committed_cents"] == str(4 * MILLION + 250_000_00) else None

        rows = await eventually(every_line_projected, what="objectives projecting every line of the ledger")
        year_2026 = await anonymous.get("/v1/open/objectives.csv", params={"fiscal_year": 2026})
    only_2026 = list(csv.DictReader(io.StringIO(year_2026.text)))
    assert only_2026 == []  # no objective has a 2026 figure: no row, not blank ones
    by_id = {(r["objective_id"], r["fiscal_year"]): r for r in rows}
    assert by_id[("miglio-blu", "2027")]["committed_cents"] == str(4 * MILLION)
    assert by_id[("miglio-blu", "2027")]["status"] == "PARTIALLY_FUNDED"
    assert by_id[("vision-2019", "2027")]["committed_cents"] == str(4 * MILLION + 250_000_00)


async def test_the_open_ledger_is_the_ledger_without_how_it_reached_regia(funding, objectives) -> None:  # type: ignore[no-untyped-def]
    await seed(funding, objectives)
    async with funding.client() as anonymous:
        r = await anonymous.get("/v1/open/ledger.csv")
        refused = await anonymous.get("/v1/ledger/export")  # the operational export stays scoped
    assert r.status_code == 200, r.text
    assert refused.status_code == 401
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 7
    assert not {"pushed_by", "channel", "event_id", "key_id", "correlation_id"} & set(rows[0])
    assert "rgk_" not in r.text
    committed: dict[str, int] = {}
    for row in rows:
        committed[row["objective_id"]] = committed.get(row["objective_id"], 0) + int(row["committed_delta_cents"])
    assert committed == {k: v[0] for k, v in (await ledger_totals(funding)).items()}
    first = rows[0]
    assert (first["institution_name"], first["objective_title"], first["reason"]) == (
        "Regione Liguria",
        first["objective_title"],
        "DGR 1/2027 & <cofinanziamento>",
    )
    assert rows[1]["reason"] == "'=SUM(A1)"  # spreadsheet-safe
