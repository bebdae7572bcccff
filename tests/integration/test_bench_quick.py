"""`regia bench --quick` runs end to end on its own embedded PostgreSQL and broker and
writes every section of its JSON with positive figures. Nothing here asserts a speed: the
figures depend on the machine, and the run reports its targets as pass/fail itself."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
# Every process the benchmark charges CPU to, each with a figure per event.
PROCESSES = ("funding", "objectives", "notifier", "partners", "postgres", "broker", "bench (clients)", "total")


def assert_cpu_per_event(section: dict) -> None:
    per_event = section["cpu_ms_per_event"]
    assert set(PROCESSES) <= set(per_event) and all(v >= 0 for v in per_event.values())
    assert per_event["total"] > 0 and per_event["funding"] > 0 and isinstance(section["cpu_settled"], bool)


def test_quick_benchmark_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    completed = subprocess.run(
        [sys.executable, "-m", "regia", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,  # the reads section seeds 10,000 lines and reads them
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    result = json.loads(out.read_text())

    # the machine's speed, measured before the run and after it, beside every CPU figure
    assert 0 < result["machine"]["calibration_cpu_s"]["start"] and 0 < result["machine"]["calibration_cpu_s"]["end"]
    # and what a round trip to PostgreSQL costs the client and the server, at both ends
    for end in ("start", "end"):
        trip = result["machine"]["round_trip_us"][end]
        assert trip["client_us"] > 0 and trip["server_us"] >= 0
    assert result["limits"]["broker"]["events_per_s"] > 0
    assert result["limits"]["broker"]["consumed"] == result["limits"]["broker"]["messages"]
    assert result["limits"]["postgres"]["rows_per_s"] > 0
    assert result["baseline"]["events_per_s"] > 0
    assert result["baseline"]["handled"] == result["baseline"]["events"]
    e2e = result["end_to_end"]
    assert e2e["events"] == 2_000 and e2e["objectives"] == 200
    assert e2e["events_per_s"] > 0 and e2e["coverage_events_seen"] > 0 and e2e["coverage_exact"]
    assert_cpu_per_event(e2e)
    for row in ("single", "batch"):
        http = result["http"][row]
        assert http["events_per_s"] > 0 and 0 < http["p50_ms"] <= http["p99_ms"] and http["failures"] == 0
        assert_cpu_per_event(http)
    # single requests on a 200/s schedule for 1 s, each timed from when it was due
    at_rate = result["http"]["single_at_rate"]
    assert at_rate["requests"] == 200 and at_rate["target_rate_per_s"] == 200 and at_rate["failures"] == 0
    assert 0 < at_rate["p50_ms"] <= at_rate["p99_ms"] <= at_rate["max_ms"] and at_rate["achieved_rate_per_s"] > 0
    assert 0 < at_rate["peak_in_flight"] <= at_rate["clients"] and isinstance(at_rate["schedule_kept"], bool)
    assert_cpu_per_event(at_rate)
    propagation = result["propagation"]
    assert set(propagation["at_rates"]) == {"200", "400"}
    # the first rate's figures stay where they were before there were two rates
    assert propagation["rate_per_s"] == 200 and propagation["p99_s"] == propagation["at_rates"]["200"]["p99_s"]
    for rate, at in propagation["at_rates"].items():
        # Every revision flips a status (and a cut drops money too): at least one alert each,
        # each timed from its funding event to the e-mail that carried it; each rate's alerts
        # are its own (a rate's revisions, one second of them, only).
        assert at["rate_per_s"] == float(rate) and at["failures"] == 0
        assert at["events"] == int(rate)  # one second at each rate
        assert at["events"] <= at["alerts_delivered"] <= 2 * at["events"]
        assert 0 < at["p50_s"] <= at["p99_s"] and 0 < at["messages"]
        # every e-mail's chain is followed hop by hop through the services' own records
        hops = at["hops"]
        assert hops["chains"]["count"] >= at["messages"] // 2
        assert all(0 <= hops[h]["p50_ms"] <= hops[h]["p99_ms"] for h in ("e-mail send started", "e-mail accepted"))
        assert_cpu_per_event(at)
    soak = result["soak"]
    assert soak["events"] == 500 and soak["seconds"] == 2.5 and soak["failures"] == 0
    assert 0 < soak["p50_ms"] <= soak["p99_ms"] and soak["achieved_rate_per_s"] > 0
    assert_cpu_per_event(soak)
    rebuild = result["rebuild"]
    assert rebuild["lines"] >= 1_000 and rebuild["seconds"] > 0 and rebuild["coverage_exact"]
    for name in ("funding", "objectives", "partners", "notifier"):
        memory = result["memory"][name]
        # judged on the soak: 2.5 s of samples every 0.2 s make thirds of four samples
        assert memory["peak_rss_mib"] > 0 and memory["flat_phase"] == "soak"
        assert 0 < memory["first_third_mib"] and 0 < memory["last_third_mib"] <= memory["peak_rss_mib"]
    reads = result["reads"]
    assert reads["seeded"]["lines"] == 10_000 and reads["seeded"]["ledger_entries"] > 10_000
    assert reads["seeded"]["coverage_rows"] > reads["seeded"]["objectives"]
    assert len(reads["reads"]) == 7 and all(isinstance(r["pass"], bool) for r in reads["reads"].values())
    plans = result["plans"]  # the plan file of 100 nodes: created, unchanged, every objective updated
    assert (plans["new"]["created"], plans["unchanged"]["unchanged"]) == (100, 100)
    assert plans["needs_changed"]["updated"] == 100 - plans["needs_changed"]["unchanged"] > 80
    for run in (plans["new"], plans["unchanged"], plans["needs_changed"]):
        assert run["seconds"] > 0 and run["cpu_ms_per_event"]["objectives"] > 0
    assert plans["node_edits"]["edits"] == 10 and 0 < plans["node_edits"]["p50_ms"] <= plans["node_edits"]["max_ms"]
    assert "plan import, 100 nodes, needs changed (s)" in completed.stdout
    imported = result["import"]
    assert imported["limit"]["rows"] == 500 and imported["full"]["rows"] == 1_000 and imported["reconciled"]
    for run in (imported["limit"], imported["full"]):
        assert run["events"] > run["rows"] and run["rows_per_s"] > 0 and not run["checks"]["differences"]
        assert run["cpu_seconds"]["cli"] > 0 and run["cpu_seconds"]["funding"] > 0
    names = [t["name"] for t in result["targets"]]
    assert all(isinstance(t["pass"], bool) for t in result["targets"])
    for name in (
        "end-to-end >= 15x the per-message baseline",
        "end-to-end >= 0.2 of the raw broker rate",
        "CPU per event (all processes) <= 0.15 ms",
        "HTTP single p99 < 50 ms at 200 req/s",
        "HTTP batch >= 20,000 events/s",
        "propagation p99 < 0.25 s at 200 events/s",
        "propagation p99 < 0.5 s at 400 events/s",
        "memory flat over a 2.5-second run at 200 events/s",
        "OpenCoesione import of 500 rows < 30 s",
        "OpenCoesione imports reconcile to the cent",
    ):
        assert name in names
    assert len(names) == 10 + 7  # and one per read
    assert "target:" in completed.stdout  # the printed table
