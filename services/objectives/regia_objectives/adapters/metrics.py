"""The objectives service's gauges: objective-years by coverage status, and each plan's
need and commitments as its root node sums them.

Labels stay bounded: five statuses (NO_NEED among them), the fiscal years in use, five levels, and plan ids
(a region has a handful of plans; objective and node ids are never labels).
"""

import json
from collections.abc import Iterable, Mapping

import asyncpg
from prometheus_client import CollectorRegistry, Gauge

from regia_shared.contracts.events.objectives import CoverageStatus
from regia_shared.observability.metrics_refresh import euros, replace_children


def by_status(counts: Iterable[tuple[str, int, int]]) -> dict[tuple[str, str], float]:
    """(status, year, n) rows → gauge values, every status present for every year seen, so
    a status that empties reads 0 rather than vanishing."""
    rows = list(counts)
    values = {(s.value, str(year)): 0.0 for _, year, _ in rows for s in CoverageStatus}
    values.update({(status, str(year)): float(n) for status, year, n in rows})
    return values


def plan_figures(rows: Iterable[Mapping]) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str, str], float]]:
    """Root-node coverage rows → (need by plan and year, committed by plan, year and level)."""
    need, committed = {}, {}
    for r in rows:
        plan, year = r["plan_id"], str(r["fiscal_year"])
        need[(plan, year)] = euros(r["need_cents"])
        for level, cents in json.loads(r["committed_by_level"]).items():
            committed[(plan, year, level)] = euros(int(cents))
    return need, committed


class ObjectivesMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.objectives = Gauge(
            "regia_objectives",
            "Objective-years (every node) by coverage status",
            ["status", "fiscal_year"],
            registry=registry,
        )
        self.plan_need = Gauge(
            "regia_plan_need_euros", "A plan's need, summed at its root", ["plan_id", "fiscal_year"], registry=registry
        )
        self.plan_committed = Gauge(
            "regia_plan_committed_euros",
            "Euros committed to a plan, summed at its root, by level",
            ["plan_id", "fiscal_year", "level"],
            registry=registry,
        )

    async def refresh(self, conn: asyncpg.Connection) -> None:
        statuses = await conn.fetch(
            "SELECT status, fiscal_year, count(*) AS n FROM coverage GROUP BY status, fiscal_year"
        )
        roots = await conn.fetch(
            "SELECT o.plan_id, c.fiscal_year, c.need_cents, c.committed_by_level::text AS committed_by_level"
            " FROM objectives o JOIN coverage c ON c.objective_id = o.objective_id"
            " WHERE o.plan_id IS NOT NULL AND o.parent_id IS NULL"
        )
        need, committed = plan_figures(roots)
        replace_children(self.objectives, by_status((r["status"], r["fiscal_year"], r["n"]) for r in statuses))
        replace_children(self.plan_need, need)
        replace_children(self.plan_committed, committed)
