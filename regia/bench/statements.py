"""Where PostgreSQL's time goes in each benchmark section, statement by statement
(`regia bench --statements`).

The CPU meter says how much PostgreSQL spent in a section; this says on what. The
benchmark's PostgreSQL then loads pg_stat_statements (`EmbeddedPostgres(statement_stats=
True)`), the counters are reset when a section starts and read when it ends, and the
section's JSON gets its busiest statements: calls, rows, execution time and WAL, with the
statement's normalised text. Issue 21's sessions read this by hand twice, with a local
change to the server's command line each time; what the end-to-end phase spends on the
outbox's mark, the audit rows or a foreign key's check is the first thing a change to
PostgreSQL's share needs to know.

The counting costs PostgreSQL CPU of its own, so a run with `--statements` is for reading
shares, never for setting its CPU figures beside another run's.

Statements run by other statements (a trigger's, a foreign key's check) are counted with
`nested` set: their time is already inside the statement that ran them, so the section's
totals add the top-level ones only.
"""

from typing import Any

import asyncpg

TOP = 15  # statements kept per section, the busiest by execution time

# Only this database's statements (the server is the benchmark's own, but `postgres` and
# the census's own reads are not Regia's work).
_READ = (
    "SELECT toplevel, calls, rows, total_exec_time, wal_bytes,"
    " left(regexp_replace(query, '\\s+', ' ', 'g'), $1) AS query"
    " FROM pg_stat_statements"
    " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND query NOT LIKE '%pg_stat_statements%'"
    " ORDER BY total_exec_time DESC"
)


async def prepare(dsn: str) -> None:
    """The extension's view in the benchmark's database (the library is loaded by the server)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    finally:
        await conn.close()


async def reset(dsn: str) -> None:
    """Start counting afresh: a section starts."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


async def census(dsn: str, top: int = TOP, text_chars: int = 160) -> dict[str, Any]:
    """What PostgreSQL ran in this database since the last `reset`: the top-level totals and
    the `top` busiest statements, nested ones included and marked."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(_READ, text_chars)
    finally:
        await conn.close()
    own = [r for r in rows if r["toplevel"]]
    exec_ms = sum(r["total_exec_time"] for r in own)
    return {
        "calls": sum(r["calls"] for r in own),
        "exec_ms": round(exec_ms, 1),
        "wal_bytes": int(sum(r["wal_bytes"] for r in own)),
        "statements": [
            {
                "calls": r["calls"],
                "rows": r["rows"],
                "exec_ms": round(r["total_exec_time"], 1),
                "share": round(r["total_exec_time"] / exec_ms, 4) if exec_ms and r["toplevel"] else None,
                "wal_bytes": int(r["wal_bytes"]),
                "nested": not r["toplevel"],
                "query": r["query"],
            }
            for r in rows[:top]
        ],
    }


def lines(section: str, counted: dict[str, Any], shown: int = 6) -> list[tuple[str, str, str]]:
    """Rows of the printed table for one section: its totals, then its busiest statements."""
    out = [
        (
            f"PostgreSQL statements in {section} (exec s)",
            f"{counted['exec_ms'] / 1000:.2f}",
            f"{counted['calls']} top-level calls, {counted['wal_bytes'] / 1e6:.0f} MB of WAL; the busiest:",
        )
    ]
    for s in counted["statements"][:shown]:
        share = "nested" if s["nested"] else f"{100 * (s['share'] or 0):.0f} %"
        out.append(
            (
                f"  {share:>6}, {s['calls']} calls, {s['wal_bytes'] / 1e6:.0f} MB WAL",
                f"{s['exec_ms'] / 1000:.2f}",
                s["query"][:90],
            )
        )
    return out
