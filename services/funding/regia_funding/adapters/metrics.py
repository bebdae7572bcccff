"""The funding service's gauges of money, read from the current state of its lines.

Labels are a government level and a fiscal year: both few (eight levels, the budget
window's years). A line's amounts are as it stands now: a revoked line keeps only what
was paid, a rolled-over one what it disbursed before its rest moved on.
"""

import asyncpg
from prometheus_client import CollectorRegistry, Gauge

from regia_shared.observability.metrics_refresh import euros, replace_children


class FundingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.committed = Gauge(
            "regia_funding_committed_euros",
            "Euros committed on funding lines",
            ["level", "fiscal_year"],
            registry=registry,
        )
        self.disbursed = Gauge(
            "regia_funding_disbursed_euros",
            "Euros disbursed on funding lines",
            ["level", "fiscal_year"],
            registry=registry,
        )

    async def refresh(self, conn: asyncpg.Connection) -> None:
        rows = await conn.fetch(
            "SELECT level, fiscal_year, sum(committed_cents) AS committed,"
            " sum(disbursed_cents) AS disbursed FROM funding_lines GROUP BY level, fiscal_year"
        )
        replace_children(self.committed, {(r["level"], str(r["fiscal_year"])): euros(r["committed"]) for r in rows})
        replace_children(self.disbursed, {(r["level"], str(r["fiscal_year"])): euros(r["disbursed"]) for r in rows})
