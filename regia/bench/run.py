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

from . import statements
from .calibration import calibrate, round_trip
from .cpu import CLIENTS
from .harness import Stack, temp_root
from .imports import LIMIT_ROWS, run_imports
from .limits import baseline, raw_broker, raw_postgres
from .plans import run_plan_imports
from .reads import run_reads
from .readset import ReadSet
from .system import Regia

RSS_TOLERANCE = 1.15
# reads comes after rebuild: the rebuild section recomputes all coverage, the read set
# included. import comes last: its hundreds of thousands of lines would weigh on the rebuild
# and the reads, and the objectives service is still applying them when it ends.
SECTIONS = (
    "limits",
    "baseline",
    "end_to_end",
    "http",
    "propagation",
    "soak",
    "rebuild",
    "reads",
    "plans",
    "import",
)
# Issue 21's targets.
E2E_VS_BASELINE = 15.0  # end to end at least this many times the per-message baseline
E2E_VS_BROKER = 0.2  # ... and at least this fraction of the raw broker
CPU_MS_PER_EVENT = 0.15  # CPU of every process together, per end-to-end event
HTTP_SINGLE_P99_MS = 50.0  # single requests at the open-loop rate
HTTP_BATCH_EVENTS_PER_S = 20_000.0
PROPAGATION_P99_S = {200.0: 0.25, 400.0: 0.5}  # funding -> e-mail p99 at each rate (events/s)


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
    http_rate: float = 1_500.0  # single requests on an open-loop schedule, each timed from its scheduled start
    http_rate_seconds: float = 10.0
    http_rate_clients: int = 256  # connections at most (opened as the schedule needs them)
    propagation_rates: tuple[float, ...] = (200.0, 400.0)  # one after the other, each for propagation_seconds
    propagation_seconds: float = 30.0
    # each line revised every 2 s at 400/s (4 s at 200/s): its alert is out long before the
    # next revision, so no line is revised twice at once
    propagation_objectives: int = 800
    soak_rate: float = 200.0  # funding events/s over HTTP while memory is watched
    soak_seconds: float = 600.0
    ledger_entries: int = 1_000_000
    partitions: int = 3
    objectives_replicas: int = 1
    read_lines: int = 1_000_000  # the read set: 200,000 objectives, a 3,000-node plan, 88,000 lines on one
    read_requests: int = 200  # per read, one at a time
    plan_nodes: int = 3_000  # the plan file the plans section imports (a region's plan)
    import_rows: int = 200_000  # the OpenCoesione file the import section imports ...
    import_limit_rows: int = LIMIT_ROWS  # ... after one of the size the limit is for
    sections: tuple[str, ...] = SECTIONS  # what to measure (the rest is skipped, its targets too)
    # PostgreSQL counts what it runs for each measured load (`--statements`,
    # regia.bench.statements): its shares are read, the run's CPU figures not set beside others.
    statements: bool = False

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
            http_rate=200.0,
            http_rate_seconds=1.0,
            http_rate_clients=64,
            propagation_seconds=1.0,
            # Each line revised once a rate (the 400 revisions at 400/s on 400 lines), as the
            # full size keeps each line's revisions 2 s apart: two revisions of one line that
            # objectives applies in one batch net out, so the flip between them alerts nobody.
            # At 100 lines (a revision every 0.25 s) a slow hour's lag did that, and the section
            # waited its 120 s for alerts that were never owed.
            propagation_objectives=400,
            soak_seconds=2.5,  # 12 samples of RSS at 0.2 s: flatness needs six
            ledger_entries=1_000,
            read_lines=10_000,  # the quick run is a test of the suite (its 12-minute budget): sizes that show each section works
            read_requests=20,
            plan_nodes=100,
            import_rows=1_000,
            import_limit_rows=500,
        )


def flatness(steady: list[float]) -> dict | None:
    """The peak RSS of the first and of the last third of a phase's samples (MiB) and whether
    the last stayed within 15 % of the first; None with too few samples to tell (under six)."""
    third = len(steady) // 3
    if third < 2:
        return None
    first, last = max(steady[:third]), max(steady[-third:])
    return {
        "first_third_mib": round(first, 1),
        "last_third_mib": round(last, 1),
        "flat": last <= first * RSS_TOLERANCE,
    }


def memory(samples: dict[str, list[tuple[str, float]]], services: list[str]) -> dict:
    """Peak RSS per process over the run (`samples`: each process's (phase, MiB) in time
    order), and whether it stayed flat under a steady load: the soak's if it ran (the load
    made to watch memory), else the end-to-end phase's."""
    judged = "soak" if any(phase == "soak" for s in samples.values() for phase, _ in s) else "end_to_end"
    found: dict[str, dict] = {}
    for name, taken in samples.items():
        entry: dict = {
            "peak_rss_mib": round(max(m for _, m in taken), 1),
            "peak_by_phase_mib": {},
            "service": name in services,
        }
        for phase, mib in taken:
            entry["peak_by_phase_mib"][phase] = round(max(mib, entry["peak_by_phase_mib"].get(phase, 0)), 1)
        flat = flatness([mib for phase, mib in taken if phase == judged])
        if flat is not None:
            entry |= {"flat_phase": judged, **flat}
        found[name] = entry
    return found


def _long(seconds: float) -> str:
    """A run's length as a target names it: "10-minute", "6-second"."""
    return f"{seconds / 60:g}-minute" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g}-second"


def targets(result: dict) -> list[dict]:
    """The issue's targets, for the sections this run measured."""
    checks: list[tuple[str, float, float, str]] = []
    e2e = result.get("end_to_end")
    if e2e and "baseline" in result:
        checks.append(
            (
                f"end-to-end >= {E2E_VS_BASELINE:g}x the per-message baseline",
                e2e["events_per_s"] / max(result["baseline"]["events_per_s"], 1e-9),
                E2E_VS_BASELINE,
                ">=",
            )
        )
    if e2e and "limits" in result:
        checks.append(
            (
                f"end-to-end >= {E2E_VS_BROKER:g} of the raw broker rate",
                e2e["events_per_s"] / max(result["limits"]["broker"]["events_per_s"], 1e-9),
                E2E_VS_BROKER,
                ">=",
            )
        )
    if e2e and "cpu_ms_per_event" in e2e:
        total = e2e["cpu_ms_per_event"].get("total", float("inf"))
        checks.append((f"CPU per event (all processes) <= {CPU_MS_PER_EVENT:g} ms", total, CPU_MS_PER_EVENT, "<="))
    http = result.get("http", {})
    if "single_at_rate" in http:
        at_rate = http["single_at_rate"]
        checks.append(
            (
                f"HTTP single p99 < {HTTP_SINGLE_P99_MS:g} ms at {at_rate['target_rate_per_s']:,.0f} req/s",
                at_rate.get("p99_ms", float("inf")),
                HTTP_SINGLE_P99_MS,
                "<",
            )
        )
    if "batch" in http:
        checks.append(
            (
                f"HTTP batch >= {HTTP_BATCH_EVENTS_PER_S:,.0f} events/s",
                http["batch"]["events_per_s"],
                HTTP_BATCH_EVENTS_PER_S,
                ">=",
            )
        )
    for at_rate in result.get("propagation", {}).get("at_rates", {}).values():
        limit = PROPAGATION_P99_S.get(at_rate["rate_per_s"])
        if limit is not None:  # a rate the issue sets no target for is reported, not judged
            p99 = at_rate["p99_s"] if at_rate["p99_s"] is not None else float("inf")  # no alert timed: fails
            checks.append((f"propagation p99 < {limit:g} s at {at_rate['rate_per_s']:g} events/s", p99, limit, "<"))
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
            "pass": bool(value >= target if op == ">=" else value <= target if op == "<=" else value < target),
        }
        for name, value, target, op in checks
    ]
    if "import" in result:
        exact = result["import"]["reconciled"]
        rows.append(
            {"name": "OpenCoesione imports reconcile to the cent", "value": exact, "target": True, "pass": exact}
        )
    judged = [e for e in result.get("memory", {}).values() if e["service"] and "flat" in e]
    if judged:
        flat = all(e["flat"] for e in judged)
        if judged[0]["flat_phase"] == "soak" and "soak" in result:
            soak = result["soak"]
            name = f"memory flat over a {_long(soak['seconds'])} run at {soak['target_rate_per_s']:g} events/s"
        else:
            name = "memory flat (services' RSS, end-to-end phase)"
        rows.append({"name": name, "value": flat, "target": True, "pass": flat})
    return rows


async def run(sizes: Sizes, out: Path, keep: bool = False) -> dict:
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    began = time.perf_counter()
    stack = Stack(temp_root(), sizes.partitions, keep=keep, count_statements=sizes.statements)
    result: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sizes": asdict(sizes),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            # before anything of the run is started: the machine's speed now (calibration.py)
            "calibration_cpu_s": {"start": await asyncio.to_thread(calibrate)},
        },
    }
    services = ["partners", "funding", "objectives", "notifier"] + [
        f"objectives-{n}" for n in range(2, sizes.objectives_replicas + 1)
    ]

    current = ["setup"]  # the phase the CPU meter charges (a section may retag its RSS samples)

    def phase(name: str) -> None:
        done = [k for k in SECTIONS if k in result]
        if done:  # each section as soon as it is measured, so a failure later loses nothing
            print(f"benchmark: {done[-1]}: {json.dumps(result[done[-1]])}", flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=2) + "\n")
        stack.cpu.close_phase(current[0])
        current[0] = stack.rss.phase = name
        print(f"benchmark: {name} ({time.perf_counter() - began:.0f}s)", flush=True)

    try:
        phase("infrastructure")
        await stack.start_infra()
        # what a round trip to PostgreSQL costs now, which the calibration does not see
        result["machine"]["round_trip_us"] = {"start": await round_trip(stack.dsn)}
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
        result["setup"] = {
            "objectives_defined_seconds": round(time.perf_counter() - defining, 3),
            # what the processes spend doing nothing: part of every section's CPU per event
            "idle_cpu_cores": await stack.cpu.measure_idle(),
        }
        if "end_to_end" in want:
            phase("end_to_end")
            result["end_to_end"] = await regia.end_to_end(sizes.events, sizes.objectives)
        if "http" in want:
            phase("http")
            result["http"] = await regia.http(
                sizes.http_requests,
                sizes.http_batches,
                sizes.http_batch_size,
                sizes.http_concurrency,
                sizes.objectives,
                sizes.http_rate,
                sizes.http_rate_seconds,
                sizes.http_rate_clients,
            )
        if "propagation" in want:
            phase("propagation")
            result["propagation"] = await regia.propagation(
                sizes.propagation_rates, sizes.propagation_seconds, sizes.propagation_objectives
            )
        if "soak" in want:
            phase("soak")
            result["soak"] = await regia.soak(sizes.soak_rate, sizes.soak_seconds, sizes.objectives)
        if "rebuild" in want:
            phase("rebuild")
            result["rebuild"] = await regia.rebuild(sizes.ledger_entries, sizes.objectives)
        if "reads" in want:
            phase("reads")
            result["reads"] = await run_reads(stack, ReadSet.scaled(sizes.read_lines), sizes.read_requests)
        if "plans" in want:
            phase("plans")
            result["plans"] = await run_plan_imports(regia, sizes.plan_nodes)
        if "import" in want:
            phase("import")
            result["import"] = await run_imports(regia, sizes.import_rows, sizes.import_limit_rows, sizes.objectives)
            if "limits" in result:  # the import's rate beside what the same PostgreSQL takes by COPY
                raw = max(result["limits"]["postgres"]["rows_per_s"], 1e-9)
                for run_ in ("limit", "full"):
                    result["import"][run_]["events_vs_raw_copy"] = round(
                        result["import"][run_]["events_per_s"] / raw, 4
                    )
        result["machine"]["round_trip_us"]["end"] = await round_trip(stack.dsn)  # the services idle
        phase("done")
        result["memory"] = memory(stack.rss.samples, services)
        result["cpu_seconds"] = {
            p: spent for p, spent in stack.cpu.by_phase.items() if p in SECTIONS and any(spent.values())
        }
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.stop()
    result["machine"]["calibration_cpu_s"]["end"] = await asyncio.to_thread(calibrate)
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

    calibration = r.get("machine", {}).get("calibration_cpu_s", {})
    if "start" in calibration:
        row(
            "machine: calibration work, CPU seconds (start)",
            calibration["start"],
            f"end {calibration.get('end', '-')}; read every CPU figure below against it (calibration.py)",
        )
    trips = r.get("machine", {}).get("round_trip_us", {})
    if trips.get("start"):

        def both(t: dict | None) -> str:
            return "-" if not t else f"client {t['client_us']:g} + server {t['server_us']:g}"

        row(
            "machine: a PostgreSQL round trip, CPU µs (start)",
            f"{trips['start']['client_us'] + trips['start']['server_us']:.1f}",
            f"{both(trips['start'])}; end {both(trips.get('end'))}; a steady rate is mostly these",
        )

    def cpu(section: dict, unit: str, each: bool = False) -> None:
        """CPU per event of a section: all processes, then each on its own row (`each`) or
        in the detail, busiest first."""
        per = section.get("cpu_ms_per_event")
        if not per:
            return
        parts = sorted(((n, v) for n, v in per.items() if n != "total"), key=lambda kv: -kv[1])
        quiet = "" if section.get("cpu_settled", True) else "processes never went quiet after it; "
        detail = quiet + ("" if each else ", ".join(f"{n} {v:.3f}" for n, v in parts if v))
        row(f"  CPU per {unit}, all processes (ms)", f"{per['total']:.4f}", detail)
        if each:
            for name, value in parts:
                row(f"    CPU per {unit}: {name} (ms)", f"{value:.4f}")

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
        cpu(e, "event", each=True)
        idle = r.get("setup", {}).get("idle_cpu_cores")
        if idle:
            busy = sorted(((n, c) for n, c in idle.items() if n != CLIENTS), key=lambda kv: -kv[1])
            total = sum(c for _, c in busy)
            row(
                "  idle CPU before it, processes under test (cores)",
                round(total, 3),
                f"{total * 1000 / max(e['events_per_s'], 1e-9):.4f} ms an event at its rate; "
                + ", ".join(f"{n} {c:.3f}" for n, c in busy if c),
            )
    http = r.get("http", {})
    for kind in ("single", "batch"):
        if kind in http:
            h = http[kind]
            row(
                f"HTTP /v1/funding-events{'/batch' if kind == 'batch' else ''} (events/s)",
                h["events_per_s"],
                f"{h['requests_per_s']} req/s, p50 {h['p50_ms']} ms, p99 {h['p99_ms']} ms, closed loop"
                f" c={h['concurrency']}, failures {h['failures']}",
            )
            cpu(h, "event")
    if "single_at_rate" in http:
        h = http["single_at_rate"]
        row(
            f"HTTP /v1/funding-events at {h['target_rate_per_s']:g}/s p50/p99 (ms)",
            f"{h['p50_ms']:g}/{h['p99_ms']:g}",
            f"open loop, from scheduled start; started {h['achieved_rate_per_s']}/s, answered"
            f" {h['answered_rate_per_s']}/s, kept={h['schedule_kept']}, {h['peak_in_flight']} of"
            f" {h['clients']} clients in flight at most, failures {h['failures']}",
        )
        cpu(h, "request")
    for g in r.get("propagation", {}).get("at_rates", {}).values():
        row(
            f"propagation funding -> e-mail at {g['rate_per_s']:g}/s p50 (s)",
            g["p50_s"],
            f"{g['alerts_delivered']} alerts in {g['messages']} e-mails, achieved {g['achieved_rate_per_s']}/s,"
            f" failures {g['failures']}"
            + (f" (first: {g['failure_examples'][0][:160]})" if g.get("failure_examples") else ""),
        )
        row(
            f"propagation funding -> e-mail at {g['rate_per_s']:g}/s p99 (s)",
            g["p99_s"],
            f"per e-mail (histogram): {g['histogram_p99_s']}",
        )
        for hop, spans in g.get("hops", {}).items():
            if hop != "chains":
                row(f"  hop: ... -> {hop} p50/p99 (ms)", f"{spans['p50_ms']:g}/{spans['p99_ms']:g}", "")
        cpu(g, "revision")
    if "soak" in r:
        k = r["soak"]
        row(
            f"soak: {k['events']} events at {k['target_rate_per_s']:g}/s p50/p99 (ms)",
            f"{k['p50_ms']:g}/{k['p99_ms']:g}",
            f"over HTTP, open loop, {k['seconds']:g} s; started {k['achieved_rate_per_s']}/s, answered"
            f" {k['answered_rate_per_s']}/s, failures {k['failures']}",
        )
        cpu(k, "event")
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
    if "plans" in r:
        pl = r["plans"]
        for name in ("new", "unchanged", "needs_changed"):
            one = pl[name]
            row(
                f"plan import, {pl['nodes']:,} nodes, {name.replace('_', ' ')} (s)",
                one["seconds"],
                f"{one['nodes_per_s']} nodes/s; created {one['created']}, updated {one['updated']},"
                f" unchanged {one['unchanged']}",
            )
            cpu(one, "node")
        ed = pl["node_edits"]
        row(
            f"plan node edit, one of {pl['nodes']:,} nodes, p50/max (ms)",
            f"{ed['p50_ms']:g}/{ed['max_ms']:g}",
            f"{ed['edits']} objectives' needs changed one at a time (PATCH .../nodes/{{id}})",
        )
        cpu(ed, "edit")
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
        flat = (
            f"{m['flat_phase']}: first third {m['first_third_mib']}, last third {m['last_third_mib']} MiB,"
            f" flat={m['flat']}"
            if "flat" in m
            else ""
        )
        row(f"peak RSS {name} (MiB)", m["peak_rss_mib"], flat)
    for phase, spent in r.get("cpu_seconds", {}).items():
        row(
            f"CPU seconds in {phase}",
            round(sum(spent.values()), 1),
            ", ".join(f"{n} {s}" for n, s in sorted(spent.items(), key=lambda kv: -kv[1]) if s),
        )
    for load, counted in statements.found({k: r[k] for k in SECTIONS if k in r}):
        for name, figure, detail in statements.lines(load, counted):
            row(name, figure, detail)
    lines.append("")
    for t in r["targets"]:
        row(f"target: {t['name']}", t["value"], f"target {t['target']}: {'PASS' if t['pass'] else 'FAIL'}")
    return "\n".join(lines)


def main(sizes: Sizes, out: Path, keep: bool = False) -> dict:
    return asyncio.run(run(sizes, out, keep))
