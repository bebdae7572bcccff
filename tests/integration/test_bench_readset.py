"""The read benchmark's seeder (regia/bench/readset.py) writes what the services would have
written: into running funding, objectives and partners schemas (real PostgreSQL), its lines
agree with their ledgers and with objectives' projection, and the coverage rebuild, which
recomputes every objective-year with the service's own code, finds nothing to correct."""

import pytest

from regia.bench.readset import ReadSet, seed
from regia_objectives.app import create_app as objectives_app
from regia_partners.app import create_app as partners_app

from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, RunningService, in_process

pytestmark = pytest.mark.usefixtures("service_env")


async def test_a_small_read_set_is_consistent_and_the_service_agrees(
    funding: RunningService, database: Database
) -> None:
    rs = ReadSet(lines=3_000, objectives=700, plan_nodes=100, big_lines=400)
    async with in_process("objectives", objectives_app) as objectives, in_process("partners", partners_app):
        report = await seed(database.dsn, rs)
        assert (report.lines, report.objectives) == (3_000, 700)
        fund = await database.connect("funding")
        obj = await database.connect("objectives")
        try:
            # Every line is its ledger's last entry, and its entries add up to it.
            assert await fund.fetchval("SELECT count(*) FROM funding_lines WHERE line_id LIKE 'rs-%'") == 3_000
            drift = await fund.fetchval(
                "SELECT count(*) FROM funding_lines l JOIN LATERAL (SELECT sum(delta_cents) AS c,"
                " sum(disbursed_delta_cents) AS d, max(line_version) AS v FROM ledger_entries e"
                " WHERE e.line_id = l.line_id) e ON true"
                " WHERE l.committed_cents <> e.c OR l.disbursed_cents <> e.d OR l.version <> e.v"
            )
            assert drift == 0
            assert report.ledger_entries == await fund.fetchval("SELECT count(*) FROM ledger_entries") > 3_000
            # objectives' projection holds each line at its newest version.
            funding_side = await fund.fetch(
                "SELECT line_id, objective_id, fiscal_year, committed_cents, disbursed_cents, version FROM funding_lines"
            )
            projected = await obj.fetch(
                "SELECT line_id, objective_id, fiscal_year, committed_cents, disbursed_cents, line_version"
                " AS version FROM line_allocations"
            )
            assert sorted(map(tuple, funding_side)) == sorted(map(tuple, projected))
            # The plan: its nodes under two roots; the big objective's lines and its cut line.
            roots = await obj.fetchval(
                "SELECT count(*) FROM objectives WHERE plan_id = $1 AND parent_id IS NULL", rs.plan_id
            )
            assert roots == 2
            assert await obj.fetchval("SELECT count(*) FROM objectives WHERE plan_id = $1", rs.plan_id) == 100
            assert (
                await obj.fetchval("SELECT count(*) FROM line_allocations WHERE objective_id = $1", rs.big_objective)
                == 400
            )
            big = await obj.fetchrow(
                "SELECT status, need_cents, committed_cents FROM coverage WHERE objective_id = $1 AND fiscal_year = 2027",
                rs.big_objective,
            )
            assert big["status"] == "AT_RISK" and big["committed_cents"] * 100 // big["need_cents"] in (59, 60)
            assert (
                await fund.fetchval(
                    "SELECT committed_after FROM ledger_entries WHERE line_id = $1 ORDER BY line_version DESC LIMIT 1",
                    rs.cut_line,
                )
                == 300_000_000
            )
            statuses = {r["status"] for r in await obj.fetch("SELECT DISTINCT status FROM coverage")}
            assert {"AT_RISK", "FUNDED", "UNFUNDED", "PARTIALLY_FUNDED"} <= statuses
            # The document's money by institution is held as the applying statement keeps it.
            held = await obj.fetch(
                "SELECT objective_id, fiscal_year, institution_id, level, committed_cents, disbursed_cents,"
                " line_count, history_cents FROM institution_totals"
            )
            summed = await obj.fetch(
                "SELECT objective_id, fiscal_year, institution_id, level, sum(committed_cents),"
                " sum(disbursed_cents), count(*), coalesce(sum(committed_cents) FILTER (WHERE history), 0)"
                " FROM line_allocations GROUP BY 1, 2, 3, 4"
            )
            assert held and sorted(map(tuple, held)) == sorted(map(tuple, summed))
        finally:
            await fund.close()
            await obj.close()
        async with objectives.client(headers=ADMIN_HEADERS) as admin:
            r = await admin.post("/v1/admin/rebuild/coverage")
        assert r.status_code == 200, r.text
        rebuilt = r.json()
        assert rebuilt["lines"] == 3_000 and rebuilt["objective_years"] == report.coverage_rows
        assert rebuilt["events_published"] == 0  # the service computes exactly what was seeded
        async with objectives.client(headers=ADMIN_HEADERS) as admin:
            document = (await admin.get(f"/v1/objectives/{rs.big_objective}")).json()
        lines = sum(i["line_count"] for y in document["years"] for i in y["by_institution"])
        assert lines == 400  # who holds the big objective's money, from the seeded totals
