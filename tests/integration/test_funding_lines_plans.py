"""The list of funding lines is read from an index, in order, and stops after a page: no
sort of the matching rows, whatever the scope and sort, on the first page and deep in the
listing. Checked with EXPLAIN on the statement the adapter runs, over 100,000 lines with
8,800 on one objective and half of them one institution's (docs/performance.md has the
timings at 1,000,000)."""

import json
from typing import Any

import pytest

from regia_funding.adapters.lines import LINE_SORTS, lines_page_query

from ..support.infra import Database

pytestmark = pytest.mark.usefixtures("service_env")

LINES = 100_000
SCOPES: dict[str, dict[str, Any]] = {
    "admin": {},
    "objective": {"objective_id": "miglio-blu"},
    "institution": {"institution_id": "regione-liguria"},
    "institution and objective": {"institution_id": "regione-liguria", "objective_id": "miglio-blu"},
    "objective, year and level": {"objective_id": "miglio-blu", "fiscal_year": 2027, "level": "REGIONE"},
}


def nodes(plan: dict) -> list[dict]:
    return [plan, *(n for child in plan.get("Plans", []) for n in nodes(child))]


async def test_every_scope_and_sort_is_an_ordered_index_scan(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    conn = await database.connect("funding")
    try:
        await conn.execute(
            """
            INSERT INTO funding_lines (line_id, institution_id, level, objective_id, fiscal_year,
                committed_cents, disbursed_cents, version, status, instrument_id, updated_at)
            SELECT 'L-' || lpad(g::text, 7, '0'),
                   CASE WHEN g % 2 = 0 THEN 'regione-liguria' ELSE 'inst-' || (g % 50) END,
                   (ARRAY['EU','STATO','REGIONE','PROVINCIA','COMUNE','PRIVATE'])[1 + g % 6],
                   CASE WHEN g % 1000 < 88 THEN 'miglio-blu' ELSE 'obj-' || (g % 20000) END,
                   2025 + g % 7, (abs(hashtext(g::text)) % 100000000)::bigint, 0, 1, 'ACTIVE',
                   'instr-' || (g % 100),
                   timestamptz '2027-01-01' - (abs(hashtext('u' || g)) % 31536000) * interval '1 second'
            FROM generate_series(1, $1) g
            """,
            LINES,
        )
        await conn.execute("ANALYZE funding_lines")
        assert await conn.fetchval("SELECT count(*) FROM funding_lines WHERE objective_id = 'miglio-blu'") == 8_800
        for scope, filters in SCOPES.items():
            for sort, (columns, _) in LINE_SORTS.items():
                first_sql, args = lines_page_query(filters, sort, None, 51)
                rows = await conn.fetch(first_sql, *args)
                assert len(rows) == 51, (scope, sort)
                # Deep in the listing: the key of the page's last row, 40 pages on.
                deep = await conn.fetchrow(first_sql.replace("LIMIT", "OFFSET 2000 LIMIT"), *args)
                after = [deep[c] for c in columns] if deep is not None else [rows[-1][c] for c in columns]
                for sql, params in (
                    lines_page_query(filters, sort, None, 51),
                    lines_page_query(filters, sort, after, 51),
                ):
                    explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *params)
                    plan = json.loads(explained)[0]["Plan"]
                    kinds = [n["Node Type"] for n in nodes(plan)]
                    assert plan["Node Type"] == "Limit", (scope, sort, kinds)
                    if "fiscal_year" in filters:
                        # Filters no index leads with (year, level) on top of the objective:
                        # the planner may rather pick the few matching rows and sort them,
                        # which is as fast while they are few. Never the table, though.
                        assert "Seq Scan" not in kinds, (scope, sort, kinds)
                        assert all(n["Actual Rows"] < LINES // 20 for n in nodes(plan)), (scope, sort, kinds)
                        continue
                    assert not {"Sort", "Incremental Sort", "Seq Scan", "Bitmap Heap Scan"} & set(kinds), (
                        scope,
                        sort,
                        kinds,
                    )
                    scans = [n for n in nodes(plan) if n["Node Type"] in ("Index Scan", "Index Only Scan")]
                    assert len(scans) == 1, (scope, sort, kinds)
                    # Stopped after the page: the rows the scan passed over are those a filter
                    # it does not lead with skipped (the planner may walk the primary key for
                    # an objective spread over the whole id range), never most of the table.
                    assert scans[0]["Actual Rows"] <= 51, (scope, sort, scans[0]["Actual Rows"])
                    assert scans[0].get("Rows Removed by Filter", 0) < LINES // 2, (scope, sort, scans[0])
    finally:
        await conn.close()
