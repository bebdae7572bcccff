"""What PostgreSQL ran for a benchmark's load, statement by statement
(`regia bench --statements`).

The CPU meter says how much PostgreSQL spent on a load (the end-to-end stream, a rate of
revisions, the HTTP phases, the soak); this says on what. The benchmark's PostgreSQL then
loads pg_stat_statements (`EmbeddedPostgres(statement_stats=True)`), its counters are reset
where the CPU meter starts (`Regia.load_starts`) and read where it stops (`Regia.charged`),
and the load's JSON gets what was run for it: calls, rows, execution time and WAL in all and
per event, and the busiest statements with their normalised text. Issue 21's sessions read
this by hand twice, with a local change to the server's command line each time; what a
load spends on the outbox's mark, the audit rows or a foreign key's check is the first
thing a change to PostgreSQL's share needs to know.

The counting costs PostgreSQL CPU of its own, so a run with `--statements` is read for
shares, never for CPU figures beside another run's. Execution time includes waits for
locks.

Statements run by other statements (a trigger's, a foreign key's check) are counted with
`nested` set: their time is already inside the statement that ran them, so the totals add
the top-level ones only.
"""

from typing import Any

import asyncpg

TOP = 15  # statements kept per load, the busiest by execution time

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
    await _execute(dsn, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")


async def reset(dsn: str) -> None:
    """Start counting afresh: a measured load starts."""
    await _execute(dsn, "SELECT pg_stat_statements_reset()")


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def census(dsn: str, events: int, top: int = TOP, text_chars: int = 160) -> dict[str, Any]:
    """What PostgreSQL ran in this database since the last `reset` for a load of `events`:
    the top-level totals, in all and per event, and the `top` busiest statements, nested
    ones included and marked."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(_READ, text_chars)
    finally:
        await conn.close()
    own = [r for r in rows if r["toplevel"]]
    exec_ms = sum(r["total_exec_time"] for r in own)
    calls = sum(r["calls"] for r in own)
    wal = int(sum(r["wal_bytes"] for r in own))
    each = max(events, 1)
    return {
        "calls": calls,
        "exec_ms": round(exec_ms, 1),
        "wal_bytes": wal,
        "per_event": {
            "calls": round(calls / each, 3),
            "exec_us": round(1000 * exec_ms / each, 1),
            "wal_bytes": round(wal / each),
        },
        "statements": [
            {
                "calls": r["calls"],
                "calls_per_event": round(r["calls"] / each, 4),
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


def found(result: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every census in a benchmark's result, by where it is (`end_to_end`,
    `propagation.at_rates.400`, ...), in the result's order; one a section repeats (the
    propagation section's first rate is also its top level) once, where it is met first."""
    hits: list[tuple[str, dict[str, Any]]] = []
    seen: set[int] = set()

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            counted = node.get("statements")
            if isinstance(counted, dict) and "per_event" in counted and id(counted) not in seen:
                seen.add(id(counted))
                hits.append((path, counted))
            for key, value in node.items():
                if key != "statements":
                    walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for n, value in enumerate(node):
                walk(value, f"{path}.{n}")

    walk(result, "")
    return hits


def lines(load: str, counted: dict[str, Any], shown: int = 6) -> list[tuple[str, str, str]]:
    """Rows of the printed table for one load: its totals, then its busiest statements."""
    per = counted["per_event"]
    out = [
        (
            f"PostgreSQL statements: {load} (exec µs an event)",
            f"{per['exec_us']:.1f}",
            f"{per['calls']:g} top-level calls and {per['wal_bytes']} B of WAL an event; the busiest:",
        )
    ]
    for s in counted["statements"][:shown]:
        share = "nested" if s["nested"] else f"{100 * (s['share'] or 0):.0f} %"
        out.append(
            (
                f"  {share:>6}, {s['calls_per_event']:g} calls an event",
                f"{s['exec_ms'] / 1000:.2f} s",
                f"{s['wal_bytes'] / 1e6:.0f} MB WAL; {s['query'][:80]}",
            )
        )
    return out
