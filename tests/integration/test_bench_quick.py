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


def test_quick_benchmark_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    completed = subprocess.run(
        [sys.executable, "-m", "regia", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,  # the reads section seeds 20,000 lines and reads them
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    result = json.loads(out.read_text())

    assert result["limits"]["broker"]["events_per_s"] > 0
    assert result["limits"]["broker"]["consumed"] == result["limits"]["broker"]["messages"]
    assert result["limits"]["postgres"]["rows_per_s"] > 0
    assert result["baseline"]["events_per_s"] > 0
    assert result["baseline"]["handled"] == result["baseline"]["events"]
    e2e = result["end_to_end"]
    assert e2e["events"] == 2_000 and e2e["objectives"] == 200
    assert e2e["events_per_s"] > 0 and e2e["coverage_events_seen"] > 0 and e2e["coverage_exact"]
    for row in ("single", "batch"):
        http = result["http"][row]
        assert http["events_per_s"] > 0 and 0 < http["p50_ms"] <= http["p99_ms"] and http["failures"] == 0
    propagation = result["propagation"]
    # Every revision flips a status (and a cut drops money too): at least one alert each,
    # each timed from its funding event to the e-mail that carried it.
    assert propagation["alerts_delivered"] >= propagation["events"] > 0
    assert 0 < propagation["p50_s"] <= propagation["p99_s"] and 0 < propagation["messages"]
    # every e-mail's chain is followed hop by hop through the services' own records
    hops = propagation["hops"]
    assert hops["chains"]["count"] >= propagation["messages"] // 2
    assert all(0 <= hops[h]["p50_ms"] <= hops[h]["p99_ms"] for h in ("e-mail send started", "e-mail accepted"))
    rebuild = result["rebuild"]
    assert rebuild["lines"] >= 1_000 and rebuild["seconds"] > 0 and rebuild["coverage_exact"]
    for name in ("funding", "objectives", "partners", "notifier"):
        assert result["memory"][name]["peak_rss_mib"] > 0
    reads = result["reads"]
    assert reads["seeded"]["lines"] == 20_000 and reads["seeded"]["ledger_entries"] > 20_000
    assert reads["seeded"]["coverage_rows"] > reads["seeded"]["objectives"]
    assert len(reads["reads"]) == 7 and all(isinstance(r["pass"], bool) for r in reads["reads"].values())
    imported = result["import"]
    assert imported["limit"]["rows"] == 1_000 and imported["full"]["rows"] == 2_000 and imported["reconciled"]
    for run in (imported["limit"], imported["full"]):
        assert run["events"] > run["rows"] and run["rows_per_s"] > 0 and not run["checks"]["differences"]
        assert run["cpu_seconds"]["cli"] > 0 and run["cpu_seconds"]["funding"] > 0
    names = [t["name"] for t in result["targets"]]
    assert len(names) == 4 + 7 + 2 and all(isinstance(t["pass"], bool) for t in result["targets"])
    assert "target:" in completed.stdout  # the printed table
