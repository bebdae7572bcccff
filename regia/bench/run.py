"""One benchmark run: start the infrastructure and the services, measure every section,
compute the ratios the issue asks for, write the JSON and print the table."""

import asyncio
import json
import logging
import os
import platform
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from .harness import Stack, temp_root
from .imports import LIMIT_ROWS, run_imports
from .limits import baseline, raw_broker, raw_postgres
from .reads import run_reads
from .readset import ReadSet
from .system import Regia

RSS_TOLERANCE = 1.15
# reads comes after rebuild: the rebuild section recomputes all coverage, the read set
# included. import comes last: its hundreds of thousands of lines would weigh on the rebuild
# and the reads, and the objectives service is still applying them when it ends.
SECTIONS = ("limits", "baseline", "end_to_end", "http", "propagation", "rebuild", "reads", "import")


@dataclass
class Sizes:
    events: int = 100_000
    objectives: int = 10_000
    baseline_events: int = 20_000
    raw_messages: int = 100_000
    raw_rows: int = 1_000_000
    http_requests: int = 5_000
    http_batches: int = 100
    http_batch_size: int = 100
    http_concurrency: int = 32
    propagation_rate: float = 200.0
    propagation_seconds: float = 30.0
    propagation_objectives: int = 400  # each line revised every 2 s at 200/s, never twice at once
    ledger_entries: int = 1_000_000
    partitions: int = 3
    objectives_replicas: int = 1
    read_lines: int = 1_000_000  # the read set: 200,000 objectives, a 3,000-node plan, 88,000 lines on one
    read_requests: int = 200  # per read, one at a time
    import_rows: int = 200_000  # the OpenCoesione file the import section imports ...
    import_limit_rows: int = LIMIT_ROWS  # ... after one of the size the limit is for
    sections: tuple[str, ...] = SECTIONS  # what to measure (the rest is skipped, its targets too)

    @classmethod
    def quick(cls) -> "Sizes":
        return cls(
            events=2_000,
            objectives=200,
            baseline_events=500,
            raw_messages=5_000,
            raw_rows=20_000,
            http_requests=200,
            http_batches=10,
            propagation_seconds=3.0,
            propagation_objectives=50,
            ledger_entries=1_000,
            read_lines=20_000,
            read_requests=20,
            import_rows=2_000,
            import_limit_rows=1_000,
        )


def memory(stack: Stack, services: list[str]) -> dict:
    """Peak RSS per process over the run, and whether it stayed flat during the steady
    load of the end-to-end phase (last third's peak within 15 % of the first third's)."""
    found: dict[str, dict] = {}
    for name, samples in stack.rss.samples.items():
        steady = [mib for phase, mib in samples if phase == "end_to_end"]
        third = len(steady) // 3
        entry: dict = {
            "peak_rss_mib": round(max(m for _, m in samples), 1),
            "peak_by_phase_mib": {},
            "service": name in services,
        }
        for phase, mib in samples:
            entry["peak_by_phase_mib"][phase] = round(max(mib, entry["peak_by_phase_mib"].get(phase, 0)), 1)
        if third >= 2:
            first, last = max(steady[:third]), max(steady[-third:])
            entry |= {
                "end_to_end_first_third_mib": round(first, 1),
                "end_to_end_last_third_mib": round(last, 1),
                "flat": last <= first * RSS_TOLERANCE,
            }
        found[name] = entry
    return found


def targets(result: dict) -> list[dict]:
    """The issue's targets, for the sections this run measured."""
    checks = []
    if "end_to_end" in result and "baseline" in result:
        checks.append(
            (
                "end-to-end >= 10x the per-message baseline",
                result["end_to_end"]["events_per_s"] / max(result["baseline"]["events_per_s"], 1e-9),
                10.0,
                ">=",
            )
        )
    if "end_to_end" in result and "limits" in result:
        checks.append(
            (
                "end-to-end >= 1/10 of the raw broker rate",
                result["end_to_end"]["events_per_s"] / max(result["limits"]["broker"]["events_per_s"], 1e-9),
                0.1,
                ">=",
            )
        )
    if "propagation" in result:
        checks.append(("propagation p99 < 0.5 s at 200 events/s", result["propagation"]["p99_s"], 0.5, "<"))
    if "import" in result:
        limit = result["import"]["limit"]
        checks.append(
            (f"OpenCoesione import of {limit['rows']:,} rows < 30 s", limit["seconds"], limit["limit_seconds"], "<")
        )
    for name, read in result.get("reads", {}).get("reads", {}).items():
        # A read that failed (not 200) reports an infinite p99, and fails.
        checks.append((f"read p99 < 100 ms: {name}", read.get("p99_ms", float("inf")) / 1000, 0.1, "<"))
    rows = [
        {
            "name": name,
            "value": round(value, 3),
            "target": target,
            "pass": value >= target if op == ">=" else value < target,
        }
        for name, value, target, op in checks
    ]
    if "import" in result:
        exact = result["import"]["reconciled"]
        rows.append(
            {"name": "OpenCoesione imports reconcile to the cent", "value": exact, "target": True, "pass": exact}
        )
    flat = [entry["flat"] for entry in result.get("memory", {}).values() if entry["service"] and "flat" in entry]
    if flat:
        rows.append(
            {
                "name": "memory flat (services' RSS, end-to-end phase)",
                "value": all(flat),
                "target": True,
                "pass": all(flat),
            }
        )
    return rows


async def run(sizes: Sizes, out: Path, keep: bool = False) -> dict:
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    began = time.perf_counter()
    stack = Stack(temp_root(), sizes.partitions, keep=keep)
    result: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sizes": asdict(sizes),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    services = ["partners", "funding", "objectives", "notifier"] + [
        f"objectives-{n}" for n in range(2, sizes.objectives_replicas + 1)
    ]

    def phase(name: str) -> None:
        done = [k for k in SECTIONS if k in result]
        if done:  # each section as soon as it is measured, so a failure later loses nothing
            print(f"benchmark: {done[-1]}: {json.dumps(result[done[-1]])}", flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=2) + "\n")
        stack.cpu.close_phase(stack.rss.phase)
        stack.rss.phase = name
        print(f"benchmark: {name} ({time.perf_counter() - began:.0f}s)", flush=True)

    try:
        phase("infrastructure")
        await stack.start_infra()
        want = set(sizes.sections)
        if "limits" in want:
            phase("limits")
            result["limits"] = {
                "broker": await raw_broker(stack.bootstrap, sizes.raw_messages, sizes.objectives, sizes.partitions),
                "postgres": await raw_postgres(stack.dsn, sizes.raw_rows),
            }
        if "baseline" in want:
            phase("baseline")
            result["baseline"] = await baseline(
                stack.bootstrap, stack.dsn, sizes.baseline_events, sizes.objectives, sizes.partitions
            )
        phase("services")
        await stack.start_services(services)
        regia = Regia(stack)
        await regia.prepare()
        phase("objectives")
        defining = time.perf_counter()
        await regia.define_objectives([f"obj-{o}" for o in range(sizes.objectives)])
        result["setup"] = {"objectives_defined_seconds": round(time.perf_counter() - defining, 3)}
        if "end_to_end" in want:
            phase("end_to_end")
            result["end_to_end"] = await regia.end_to_end(sizes.events, sizes.objectives)
        if "http" in want:
            phase("http")
            result["http"] = await regia.http(
                sizes.http_requests, sizes.http_batches, sizes.http_batch_size, sizes.http_concurrency, sizes.objectives
            )
        if "propagation" in want:
            phase("propagation")
            result["propagation"] = await regia.propagation(
                sizes.propagation_rate, sizes.propagation_seconds, sizes.propagation_objectives
            )
        if "rebuild" in want:
            phase("rebuild")
            result["rebuild"] = await regia.rebuild(sizes.ledger_entries, sizes.objectives)
        if "reads" in want:
            phase("reads")
            result["reads"] = await run_reads(stack, ReadSet.scaled(sizes.read_lines), sizes.read_requests)
        if "import" in want:
            phase("import")
            result["import"] = await run_imports(regia, sizes.import_rows, sizes.import_limit_rows, sizes.objectives)
            if "limits" in result:  # the import's rate beside what the same PostgreSQL takes by COPY
                raw = max(result["limits"]["postgres"]["rows_per_s"], 1e-9)
                for run_ in ("limit", "full"):
                    result["import"][run_]["events_vs_raw_copy"] = round(
                        result["import"][run_]["events_per_s"] / raw, 4
                    )
        phase("done")
        result["memory"] = memory(stack, services)
        result["cpu_seconds"] = {
            p: spent for p, spent in stack.cpu.by_phase.items() if p in SECTIONS and any(spent.values())
        }
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.stop()
    result["targets"] = targets(result)
    result["seconds"] = round(time.perf_counter() - began, 1)
    await asyncio.to_thread(_write, out, result)
    print(table(result))
    print(f"written to {out}")
    return result


def _write(out: Path, result: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


def table(r: dict) -> str:
    lines = [f"{'measure':<58} {'figure':>14}  detail"]

    def row(name: str, value: object, detail: str = "") -> None:
        lines.append(f"{name:<58} {value!s:>14}  {detail}")

    if "limits" in r:
        b, p = r["limits"]["broker"], r["limits"]["postgres"]
        row(
            "limit: raw broker produce+consume (events/s)",
            b["events_per_s"],
            f"{b['messages']} msgs of {b['message_bytes']} B; produce {b['produce_per_s']}/s, consume {b['consume_per_s']}/s",
        )
        row("limit: raw PostgreSQL COPY (rows/s)", p["rows_per_s"], f"{p['rows']} rows")
    if "baseline" in r:
        row(
            "baseline: faststream, 1 transaction/message (events/s)",
            r["baseline"]["events_per_s"],
            f"{r['baseline']['handled']} events",
        )
    if "end_to_end" in r:
        e = r["end_to_end"]
        row(
            "Regia end-to-end inbound -> coverage events (events/s)",
            e["events_per_s"],
            f"{e['events']} events / {e['objectives']} objectives in {e['seconds']} s; exact={e['coverage_exact']}",
        )
    for kind, h in r.get("http", {}).items():
        row(
            f"HTTP /v1/funding-events{'/batch' if kind == 'batch' else ''} (events/s)",
            h["events_per_s"],
            f"{h['requests_per_s']} req/s, p50 {h['p50_ms']} ms, p99 {h['p99_ms']} ms, c={h['concurrency']},"
            f" failures {h['failures']}",
        )
    if "propagation" in r:
        g = r["propagation"]
        row(
            f"propagation funding -> e-mail at {g['rate_per_s']:.0f}/s p50 (s)",
            g["p50_s"],
            f"{g['alerts_delivered']} alerts in {g['messages']} e-mails, achieved {g['achieved_rate_per_s']}/s,"
            f" failures {g['failures']}",
        )
        row(
            f"propagation funding -> e-mail at {g['rate_per_s']:.0f}/s p99 (s)",
            g["p99_s"],
            f"per e-mail (histogram): {g['histogram_p99_s']}",
        )
        for hop, spans in g.get("hops", {}).items():
            if hop != "chains":
                row(f"  hop: ... -> {hop} p50/p99 (ms)", f"{spans['p50_ms']:g}/{spans['p99_ms']:g}", "")
    if "rebuild" in r:
        rb = r["rebuild"]
        row(
            "coverage rebuild (s)",
            rb["seconds"],
            f"{rb['lines']} lines, {rb['objective_years']} objective-years, exact={rb['coverage_exact']}",
        )
    if "reads" in r:
        s = r["reads"]["seeded"]
        row(
            "read set seeded (s)",
            s["seconds"]["total"],
            f"{s['lines']} lines, {s['ledger_entries']} ledger entries, {s['objectives']} objectives,"
            f" {s['coverage_rows']} coverage rows; COPY {s['seconds']['lines_copy']} s",
        )
        if "rebuild_check" in r["reads"]:
            c = r["reads"]["rebuild_check"]
            row("read set against the service's rebuild (events)", c.get("events_published"), f"{c['took_seconds']} s")
        for name, read in r["reads"]["reads"].items():
            if read["status"] != 200:
                row(f"read: {name}", f"HTTP {read['status']}", read["error"][:80])
            else:
                row(
                    f"read: {name} p50/p99 (ms)",
                    f"{read['p50_ms']:g}/{read['p99_ms']:g}",
                    f"{read['body_bytes']} B, max {read['max_ms']} ms",
                )
    if "import" in r:
        for run_ in ("limit", "full"):
            i = r["import"][run_]
            per_row = i["cpu_seconds_per_row"]
            row(
                f"OpenCoesione import, {i['rows']:,} rows (rows/s)",
                i["rows_per_s"],
                f"{i['events']} events in {i['seconds']} s ({i['events_per_s']}/s), exact={i['reconciled']};"
                f" CPU ms/row: CLI {per_row['cli'] * 1000:.3f}, funding {per_row['funding'] * 1000:.3f},"
                f" PostgreSQL {per_row['postgres'] * 1000:.3f}",
            )
    for name, m in r["memory"].items():
        flat = f", flat={m['flat']}" if "flat" in m else ""
        row(f"peak RSS {name} (MiB)", m["peak_rss_mib"], flat.lstrip(", "))
    for phase, spent in r.get("cpu_seconds", {}).items():
        row(
            f"CPU seconds in {phase}",
            round(sum(spent.values()), 1),
            ", ".join(f"{n} {s}" for n, s in sorted(spent.items(), key=lambda kv: -kv[1]) if s),
        )
    lines.append("")
    for t in r["targets"]:
        row(f"target: {t['name']}", t["value"], f"target {t['target']}: {'PASS' if t['pass'] else 'FAIL'}")
    return "\n".join(lines)


def main(sizes: Sizes, out: Path, keep: bool = False) -> dict:
    return asyncio.run(run(sizes, out, keep))
