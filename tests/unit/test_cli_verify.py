"""`regia verify`'s table: figures recorded by checks, outcome lines written by its pytest
plugin, aggregated into rows and totals, with a verdict that fails on a failed check or on
any euro lost or alert duplicated."""

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from regia.cli import app
from regia.operator.verify import REPO_ROOT, aggregate, read_lines, render

SAMPLE = [
    {"check": "sigkill objectives.funding", "at": 1.0, "faults": 1, "inputs": 300, "euros_lost": 0},
    {
        "test": "tests/faults/test_consumer_killed.py::test_objectives[objectives.funding]",
        "outcome": "passed",
        "seconds": 12.34,
    },
    {"check": "hostile http", "at": 2.0, "inputs": 1200, "alerts_duplicated": 0},
    {"check": "hostile http", "at": 2.5, "inputs": 34},
    {"test": "tests/hostile/test_hostile_http.py::test_bodies", "outcome": "passed", "seconds": 3},
    {"test": "tests/faults/test_poison_replay.py::test_replay", "outcome": "failed", "seconds": 20},
    {
        "check": "load: funding events over HTTP",
        "at": 3.0,
        "requests": 1500,
        "rate_per_s": 49.9,
        "peak_rss_mib": 80.7,
        "errors": 0,
        "euros_lost": 0,
    },
    {"test": "tests/load/test_sustained_load.py::test_load", "outcome": "passed", "seconds": 45},
    {"test": "tests/faults/test_x.py::test_skipped", "outcome": "skipped", "seconds": 0},
]


def write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_rows_take_the_figures_recorded_before_their_outcome(tmp_path: Path) -> None:
    summary = aggregate(read_lines(write(tmp_path / "r.jsonl", SAMPLE)), pytest_exit=1)
    assert [(r.name, r.result) for r in summary.rows] == [
        ("sigkill objectives.funding", "passed"),
        ("hostile http", "passed"),
        ("test_poison_replay.py::test_replay", "failed"),
        ("load: funding events over HTTP", "passed"),
        ("test_x.py::test_skipped", "skipped"),
    ]
    assert summary.rows[1].figures == {"inputs": 1234, "alerts_duplicated": 0}
    assert summary.rows[3].notes == {"rate_per_s": 49.9, "peak_rss_mib": 80.7, "errors": 0, "seconds": 45.0}
    assert summary.totals == {
        "faults": 1,
        "inputs": 1534,
        "requests": 1500,
        "euros_lost": 0,
        "alerts_duplicated": 0,
        "alerts_resent": 0,
    }
    assert not summary.ok  # a check failed
    table = render(summary)
    total = next(line for line in table.splitlines() if line.startswith("TOTAL"))
    assert total.split()[:4] == ["TOTAL", "(3/5", "passed)", "FAIL"] and "pytest exited with status 1" in table
    assert "1,534" in table and "1,500" in table and "rate_per_s=49.90" in table
    failed = next(line for line in table.splitlines() if "test_replay" in line)
    assert "FAIL" in failed


def test_all_passed_is_ok_and_money_lost_is_not(tmp_path: Path) -> None:
    passing = [line for line in SAMPLE if line.get("outcome") != "failed"]
    assert aggregate(passing, pytest_exit=0).ok
    lost = [
        {**line, "euros_lost": 0.01} if line.get("check") == "load: funding events over HTTP" else line
        for line in passing
    ]
    summary = aggregate(lost, pytest_exit=0)
    assert not summary.ok and summary.rows[2].failed
    assert "euros lost: 0.01 (must be 0)" in render(summary)
    duplicated = [*passing, {"check": "alerts", "alerts_duplicated": 1}]
    assert not aggregate(duplicated, pytest_exit=0).ok
    assert not aggregate([], pytest_exit=0).ok, "nothing verified is not a pass"


def test_figures_without_outcome_lines_are_checks_that_passed() -> None:
    summary = aggregate([{"check": "a", "faults": 2}, {"check": "b", "inputs": 3}])
    assert [(r.name, r.result, r.figures) for r in summary.rows] == [
        ("a", "passed", {"faults": 2}),
        ("b", "passed", {"inputs": 3}),
    ]
    assert summary.ok


def test_the_command_prints_the_table_writes_json_and_fails_on_a_failed_check(tmp_path: Path) -> None:
    report = write(tmp_path / "r.jsonl", SAMPLE)
    out = tmp_path / "verify.json"
    result = CliRunner().invoke(app, ["verify", "--from-report", str(report), "--json", str(out)])
    assert result.exit_code == 1, result.output
    assert "sigkill objectives.funding" in result.output and "TOTAL" in result.output
    written = json.loads(out.read_text())
    assert written["ok"] is False and written["failed"] == 1 and written["passed"] == 3
    assert written["totals"]["euros_lost"] == 0 and len(written["checks"]) == 5
    passing = write(tmp_path / "ok.jsonl", [line for line in SAMPLE if line.get("outcome") != "failed"])
    assert CliRunner().invoke(app, ["verify", "--from-report", str(passing)]).exit_code == 0


def test_the_pytest_plugin_writes_each_tests_outcome_after_its_figures(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(
        "from tests.support.figures import record\n"
        "def test_good():\n    record('good', inputs=5, euros_lost=0)\n"
        "def test_bad():\n    record('bad', faults=1)\n    assert False\n"
        "def test_silent():\n    assert False\n"
    )
    report = tmp_path / "report.jsonl"
    env = {**os.environ, "REGIA_VERIFY_REPORT": str(report), "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "regia.operator.verify",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_sample.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    summary = aggregate(read_lines(report), done.returncode)
    assert [(r.name, r.result, r.figures) for r in summary.rows] == [
        ("good", "passed", {"inputs": 5, "euros_lost": 0}),
        ("bad", "failed", {"faults": 1}),
        ("test_sample.py::test_silent", "failed", {}),
    ]
