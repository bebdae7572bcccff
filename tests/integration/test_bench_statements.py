"""`regia bench --statements`: a PostgreSQL started with statement counting counts what a
load ran, nested statements apart and per event, and a reset starts the next load from
nothing.

A server of its own (the suite's shared one does not load pg_stat_statements, and must not
pay for counting)."""

from pathlib import Path

import asyncpg

from regia.bench import statements
from regia.local.embedded.postgres import EmbeddedPostgres, ensure_database
from tests.support.infra import free_port


async def test_a_load_census_counts_its_statements_and_a_reset_forgets_them(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", free_port(), tmp_path / "logs", durable=False, statement_stats=True)
    server.start()
    try:
        await ensure_database(server.dsn("postgres"), "counted")
        dsn = server.dsn("counted")
        await statements.prepare(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            # A foreign key's check is a statement its insert runs: counted, marked nested.
            await conn.execute(
                "CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int REFERENCES parent)"
            )
            await conn.execute("INSERT INTO parent SELECT generate_series(1, 3)")
            await statements.reset(dsn)
            for n in (1, 2, 3):
                await conn.execute("INSERT INTO child VALUES ($1)", n)
        finally:
            await conn.close()

        counted = await statements.census(dsn, events=3)
        by_text = {s["query"]: s for s in counted["statements"]}
        insert = by_text["INSERT INTO child VALUES ($1)"]
        assert (insert["calls"], insert["rows"], insert["nested"], insert["calls_per_event"]) == (3, 3, False, 1)
        assert insert["wal_bytes"] > 0
        checks = [s for s in counted["statements"] if s["nested"] and "FOR KEY SHARE" in s["query"]]
        assert [c["calls"] for c in checks] == [3]
        assert checks[0]["share"] is None  # its time is inside the insert's
        # The totals are the top-level statements': nothing before the reset, nothing nested.
        assert counted["calls"] == sum(s["calls"] for s in counted["statements"] if not s["nested"])
        assert not any(s["query"].startswith(("INSERT INTO parent", "CREATE")) for s in counted["statements"])
        assert counted["exec_ms"] >= insert["exec_ms"]
        assert counted["per_event"]["calls"] == counted["calls"] / 3
        assert counted["per_event"]["wal_bytes"] == round(counted["wal_bytes"] / 3)

        # Where a benchmark's result holds a census, the table prints it under that name,
        # once however many places hold the same one (a section's first rate is also its top level).
        first = {"statements": dict(counted)}
        result = {
            "end_to_end": {"events": 3, "statements": counted},
            "propagation": {**first, "at_rates": {"200": first, "400": {"statements": dict(counted)}}},
        }
        assert [name for name, _ in statements.found(result)] == [
            "end_to_end",
            "propagation",
            "propagation.at_rates.400",
        ]
        printed = statements.lines("end_to_end", counted)
        assert printed[0][0] == "PostgreSQL statements: end_to_end (exec µs an event)"
        assert any("INSERT INTO child" in detail for _, _, detail in printed[1:])

        await statements.reset(dsn)
        assert (await statements.census(dsn, events=1))["statements"] == []
    finally:
        server.stop()
