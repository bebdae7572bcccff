"""The objectives service's gauges: objective-years by coverage status, each plan's need and
commitments summed over its root nodes, and each plan's title.

Labels stay bounded: five statuses (NO_NEED among them), the fiscal years in use, eight levels, and plan ids
and titles (a region has a handful of plans; objective and node ids are never labels).
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
    """Root-node coverage rows → (need by plan and year, committed by plan, year and level).

    A plan may have several roots (La Spezia's 2008 plan has one per strategic line), each
    holding its own subtree: the plan's figure is their sum. Keeping the last root's figure
    instead was issue 18's €15.31M against the console's €71.8M. Sums are in cents, turned
    into euros once, so adding roots never accumulates float rounding."""
    need_cents: dict[tuple[str, str], int] = {}
    committed_cents: dict[tuple[str, str, str], int] = {}
    for r in rows:
        plan, year = r["plan_id"], str(r["fiscal_year"])
        need_cents[(plan, year)] = need_cents.get((plan, year), 0) + int(r["need_cents"])
        for level, cents in json.loads(r["committed_by_level"]).items():
            key = (plan, year, level)
            committed_cents[key] = committed_cents.get(key, 0) + int(cents)
    return (
        {key: euros(cents) for key, cents in need_cents.items()},
        {key: euros(cents) for key, cents in committed_cents.items()},
    )


class ObjectivesMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.objectives = Gauge(
            "regia_objectives",
            "Objective-years (every node) by coverage status",
            ["status", "fiscal_year"],
            registry=registry,
        )
        self.plan_need = Gauge(
            "regia_plan_need_euros",
            "A plan's need, summed over its root nodes",
            ["plan_id", "fiscal_year"],
            registry=registry,
        )
        self.plan_committed = Gauge(
            "regia_plan_committed_euros",
            "Euros committed to a plan, summed over its root nodes, by level",
            ["plan_id", "fiscal_year", "level"],
            registry=registry,
        )
        # An "info" metric (always 1): dashboards join it on plan_id to show a plan's title,
        # and list plans by title in their variable, without every figure carrying the title.
        self.plan_info = Gauge(
            "regia_plan_info", "A plan's title (the value is always 1)", ["plan_id", "plan_title"], registry=registry
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
        plans = await conn.fetch("SELECT plan_id, title FROM plans")
        need, committed = plan_figures(roots)
        replace_children(self.objectives, by_status((r["status"], r["fiscal_year"], r["n"]) for r in statuses))
        replace_children(self.plan_need, need)
        replace_children(self.plan_committed, committed)
        replace_children(self.plan_info, {(r["plan_id"], r["title"]): 1.0 for r in plans})
