"""The levels beside government that public data funds from (issue 19): an institution of
level OTHER_PUBLIC (a port authority) registered with the partners service, a commitment
of it recorded by funding, and the level carried all the way, through the real broker and
PostgreSQL, into funding's totals by level and the objectives service's figures by level
(the objective's document, the plan tree's `level=` filter, the overview)."""

import pytest

from regia_funding.app import create_app as funding_app
from regia_objectives.adapters.planfile import write_plan
from regia_objectives.app import create_app as objectives_app
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.domain.tree import Node, NodeKind, Plan
from regia_partners.app import create_app as partners_app

from ..support.funding_api import issue_key
from ..support.services import ADMIN_HEADERS, in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")

PORT = "adsp-mar-ligure-orientale"
PLAN = Plan("waterfront", "Waterfront", "Comune della Spezia", 92461, 2026, 2029, 80, 70)
NODES = [
    Node("porto", "waterfront", None, NodeKind.PROGRAMME, "Porto", position=0),
    Node("banchine", "waterfront", "porto", NodeKind.OBJECTIVE, "Banchine", 1, {2027: 2_000_000_00}, position=0),
    Node("stazione", "waterfront", "porto", NodeKind.OBJECTIVE, "Stazione", 1, {2027: 500_000_00}, position=1),
]
AMOUNT = 1_200_000_00


def nodes(tree: list[dict]) -> list[dict]:
    """Every node of a plan tree, depth first."""
    return [n for node in tree for n in (node, *nodes(node["children"]))]


async def test_a_port_authority_funds_at_its_own_level_seen_in_totals_and_figures(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_TODAY", "2026-01-15")
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", "2025")
    async with (
        in_process("partners", partners_app) as partners,
        in_process("objectives", objectives_app) as objectives,
        in_process("funding", funding_app) as funding,
        partners.client(headers=ADMIN_HEADERS) as partners_admin,
        objectives.client(headers=ADMIN_HEADERS) as objectives_admin,
        funding.client(headers=ADMIN_HEADERS) as funding_admin,
    ):
        r = await partners_admin.post(
            "/v1/partners",
            json={
                "partner_id": PORT,
                "name": "Autorità di Sistema Portuale del Mar Ligure Orientale",
                "kind": "INSTITUTION",
                "level": "OTHER_PUBLIC",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["level"] == "OTHER_PUBLIC"
        listed = (await partners_admin.get("/v1/partners", params={"level": "OTHER_PUBLIC"})).json()["items"]
        assert [p["partner_id"] for p in listed] == [PORT]

        plan_file = write_plan(PlanFile(PLAN, NODES, {})).encode()
        r = await objectives_admin.post(
            "/v1/plans/import", content=plan_file, headers={"Content-Type": "application/yaml"}
        )
        assert r.status_code == 200, r.text

        async def known() -> list[dict] | None:
            institutions = (await funding_admin.get("/v1/institutions")).json()
            objective = await funding_admin.get("/v1/objectives/banchine")
            return institutions if institutions and objective.status_code == 200 else None

        institutions = await eventually(known, what="the port authority and the objective known to funding")
        assert [(i["institution_id"], i["level"]) for i in institutions] == [(PORT, "OTHER_PUBLIC")]
        r = await funding_admin.post(
            "/v1/instruments",
            json={"instrument_id": "fondi-adsp", "institution_id": PORT, "name": "Bilancio AdSP", "kind": "budget"},
        )
        assert r.status_code == 201, r.text
        key = await issue_key(funding, PORT)
        async with funding.client() as client:
            r = await client.post(
                "/v1/funding-events",
                headers={**key, "Idempotency-Key": "adsp-1"},
                json={
                    "type": "commitment",
                    "line_id": "ADSP-2027-1",
                    "instrument_id": "fondi-adsp",
                    "objective_id": "banchine",
                    "fiscal_year": 2027,
                    "committed_cents": AMOUNT,
                    "reason": "Delibera del Comitato di gestione 12/2026",
                },
            )
            assert r.status_code == 202, r.text

        line = (await funding_admin.get("/v1/funding-lines/ADSP-2027-1")).json()
        assert line["level"] == "OTHER_PUBLIC"
        totals = (await funding_admin.get("/v1/totals", params={"by": "level"})).json()
        assert totals == [{"level": "OTHER_PUBLIC", "committed_cents": AMOUNT, "disbursed_cents": 0, "lines": 1}]
        only = (await funding_admin.get("/v1/totals", params={"level": "OTHER_PUBLIC"})).json()
        assert only[0]["committed_cents"] == AMOUNT
        foreign = (await funding_admin.get("/v1/totals", params={"level": "FOREIGN_STATE"})).json()
        assert foreign[0]["committed_cents"] == 0
        listing = (await funding_admin.get("/v1/funding-lines", params={"level": "OTHER_PUBLIC"})).json()
        assert [i["line_id"] for i in listing["items"]] == ["ADSP-2027-1"]

        async with objectives.client() as reader:

            async def figures() -> dict | None:
                body = (await reader.get("/v1/objectives/banchine")).json()
                year = next(y for y in body["years"] if y["fiscal_year"] == 2027)
                return year if year["committed_cents"] == AMOUNT else None

            year = await eventually(figures, what="the commitment in the objective's figures")
            assert year["committed_by_level"] == {"OTHER_PUBLIC": AMOUNT}
            assert year["single_level_dependency"] == "OTHER_PUBLIC"
            assert [(b["institution_id"], b["level"]) for b in year["by_institution"]] == [(PORT, "OTHER_PUBLIC")]
            assert year["last_change"]["level"] == "OTHER_PUBLIC"

            tree = (await reader.get("/v1/plans/waterfront", params={"level": "OTHER_PUBLIC"})).json()
            kept = {n["node_id"]: n["matches"] for n in nodes(tree["nodes"])}
            assert kept == {"porto": True, "banchine": True}  # the funded node and its path, not its sibling
            nothing = await reader.get("/v1/plans/waterfront", params={"level": "FOREIGN_STATE"})
            assert nothing.status_code == 200 and nothing.json()["nodes"] == [], nothing.text
            refused = await reader.get("/v1/plans/waterfront", params={"level": "MARTE"})
            assert (refused.status_code, refused.json()["field"]) == (422, "query.level")

            summary = (await reader.get("/v1/summary", params={"fiscal_year": 2027})).json()
            assert summary["committed_by_level"]["OTHER_PUBLIC"] == AMOUNT
            assert summary["committed_by_level"]["FOREIGN_STATE"] == 0
