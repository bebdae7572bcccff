"""Issue 18: a plan's figures in Prometheus are summed over all its roots, and the plan
dashboard shows them, titled. A plan with two roots is imported into a running objectives
service (real PostgreSQL and broker), money reaches both subtrees through the funding
topic, and its /metrics are scraped; the scraped samples, as two replicas would export them,
are then fed to the dashboard's own queries (promtool), which must give the summed figures."""

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from regia.local.embedded.broker import EmbeddedBroker
from regia_objectives.adapters.planfile import write_plan
from regia_objectives.app import create_app
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.domain.tree import Node, NodeKind, Plan
from regia_shared.contracts import topics
from regia_shared.contracts.levels import GovernmentLevel

from ..support import kafka
from ..support.funding import line_event
from ..support.services import ADMIN_HEADERS, in_process
from ..support.wait import eventually
from ..unit.test_deploy_grafana import plan_expectations, plan_queries_test, run_plan_queries_test
from ..unit.test_deploy_prometheus import promtool  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("service_env")
TITLE = "Piano Generale di Sviluppo – La Spezia 2008"
PLAN = Plan("pgs-2008", TITLE, "Comune della Spezia", 92461, 2026, 2029, 80, 70)


def two_roots() -> list[Node]:
    # Two strategic lines, each a root with its own subtree; the second root has a need of its own.
    return [
        Node("v1", "pgs-2008", None, NodeKind.VISION, "Waterfront e porto", position=0),
        Node("o1", "pgs-2008", "v1", NodeKind.OBJECTIVE, "Porto turistico", 1, {2027: 1_531_000_000}, position=0),
        Node("o2", "pgs-2008", "v1", NodeKind.OBJECTIVE, "Stazione marittima", 1, {2027: 469_000_000}, position=1),
        Node("v2", "pgs-2008", None, NodeKind.VISION, "Città della cultura", 1, {2027: 180_000_000}, position=1),
        Node(
            "o3",
            "pgs-2008",
            "v2",
            NodeKind.OBJECTIVE,
            "Museo diffuso",
            1,
            {2027: 5_000_000_000, 2028: 20_000},
            position=0,
        ),
    ]


async def test_plan_figures_sum_both_roots_and_the_dashboard_shows_them(
    promtool: str,  # noqa: F811
    broker: EmbeddedBroker,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("REGIA_METRICS_REFRESH_S", "0.5")
    async with in_process("objectives", create_app) as objectives:
        async with objectives.client(headers={"Content-Type": "application/yaml", **ADMIN_HEADERS}) as admin:
            r = await admin.post("/v1/plans/import", content=write_plan(PlanFile(PLAN, two_roots(), {})).encode())
            assert r.status_code == 200, r.text
        await kafka.publish(
            broker.bootstrap_servers,
            topics.FUNDING,
            [
                line_event("commit", "L-o1", "o1", 1_000_000_000, 1),
                line_event("commit", "L-o2", "o2", 200_000_000, 1, level=GovernmentLevel.STATO, institution="mit"),
                line_event("commit", "L-o3", "o3", 300_000_000, 1, level=GovernmentLevel.STATO, institution="mic"),
                line_event("commit", "L-v2", "v2", 20_000, 1, level=GovernmentLevel.COMUNE, institution="comune"),
            ],
        )

        async def exported() -> dict | None:
            async with httpx.AsyncClient(base_url=objectives.url, timeout=10) as client:
                text = (await client.get("/metrics")).text
            samples = {
                (s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text)
                for s in family.samples
                if s.name.startswith("regia_plan_")
            }
            committed = sum(v for (n, _), v in samples.items() if n == "regia_plan_committed_euros")
            return samples if committed == 15_000_200.0 else None

        samples = await eventually(exported, what="both roots' money in the plan's gauges")

    def figure(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    # The need of both roots, each with its subtree: 15.31M + 4.69M under v1, 1.8M + 50M under v2.
    assert figure("regia_plan_need_euros", plan_id="pgs-2008", fiscal_year="2027") == 71_800_000.0
    assert figure("regia_plan_need_euros", plan_id="pgs-2008", fiscal_year="2028") == 200.0
    assert figure("regia_plan_committed_euros", plan_id="pgs-2008", fiscal_year="2027", level="REGIONE") == 10_000_000.0
    assert figure("regia_plan_committed_euros", plan_id="pgs-2008", fiscal_year="2027", level="STATO") == 5_000_000.0
    assert figure("regia_plan_committed_euros", plan_id="pgs-2008", fiscal_year="2027", level="COMUNE") == 200.0
    assert figure("regia_plan_info", plan_id="pgs-2008", plan_title=TITLE) == 1.0
    assert len(samples) == 6, samples

    # The scraped samples as both objectives replicas would export them, into the dashboard's queries.
    series = []
    for instance in ("objectives:8102", "objectives-2:8102"):
        for (name, labels), value in samples.items():
            selector = ", ".join(f'{k}="{v}"' for k, v in (*labels, ("instance", instance)))
            series.append((f"{name}{{{selector}}}", value))
    expectations = plan_expectations(
        {
            "pgs-2008": (
                TITLE,
                {"2027": 71_800_000.0, "2028": 200.0},
                {"2027": {"REGIONE": 10_000_000.0, "STATO": 5_000_000.0, "COMUNE": 200.0}},
            )
        }
    )
    (_, need), (_, committed), (_, gap), _ = expectations
    assert [v for _, v in need] == [71_800_000.0, 200.0]
    assert [v for _, v in committed] == [15_000_200.0]
    assert [v for _, v in gap] == [56_799_800.0, 200.0]
    run_plan_queries_test(promtool, tmp_path, plan_queries_test(series, expectations))
