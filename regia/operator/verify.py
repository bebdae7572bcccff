"""`regia verify`: run the fault, hostile-input and load checks and say, in one table, what
the system survived: faults injected, inputs tried, requests held, euros lost (must be 0)
and alerts duplicated (must be 0), with pass or fail for each check.

The checks are pytest tests (tests/faults, tests/hostile, tests/load). Each calls
`tests.support.figures.record(...)` at its end with the figures it proved; with
REGIA_VERIFY_REPORT set those land as JSON lines in one file. This module is also a pytest
plugin (`-p regia.operator.verify`): after each test it appends a line with the test's outcome, so
the figures recorded before that line belong to that test, and a test that failed before
recording anything still shows, as failed.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import typer

REPO_ROOT = Path(__file__).resolve().parents[2]  # regia/operator/verify.py -> the checkout
CHECK_DIRS = ("tests/faults", "tests/hostile", "tests/load")
FIGURES = ("faults", "inputs", "requests", "euros_lost", "alerts_duplicated", "alerts_resent")
# Reported beside the figures, never added up across checks.
NOTES = ("rate_per_s", "peak_rss_mib", "errors", "seconds")
MUST_BE_ZERO = ("euros_lost", "alerts_duplicated")
HEADINGS = {
    "faults": "faults",
    "inputs": "inputs",
    "requests": "requests",
    "euros_lost": "euros lost",
    "alerts_duplicated": "alerts dup.",
    # An e-mail whose send a crash interrupted is sent again with the same Message-ID:
    # SMTP is at-least-once, so it is shown, not failed; one delivery per person and
    # event (alerts dup.) is what must hold.
    "alerts_resent": "re-sent",
}


@dataclass
class Row:
    name: str
    result: str  # passed | failed | skipped | error
    test: str | None = None
    figures: dict[str, float] = field(default_factory=dict)
    notes: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.result in ("failed", "error") or any(self.figures.get(f, 0) > 0 for f in MUST_BE_ZERO)


@dataclass
class Summary:
    rows: list[Row]
    totals: dict[str, float]
    pytest_exit: int | None = None

    @property
    def ok(self) -> bool:
        return (
            bool(self.rows)
            and not any(r.failed for r in self.rows)
            and any(r.result == "passed" for r in self.rows)
            and all(self.totals.get(f, 0) == 0 for f in MUST_BE_ZERO)
            and self.pytest_exit in (None, 0)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "pytest_exit": self.pytest_exit,
            "totals": self.totals,
            "passed": sum(r.result == "passed" for r in self.rows),
            "failed": sum(r.failed for r in self.rows),
            "skipped": sum(r.result == "skipped" for r in self.rows),
            "checks": [{**asdict(r), "failed": r.failed} for r in self.rows],
        }


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = []
    for text in path.read_text(encoding="utf-8").splitlines():
        if text.strip():
            lines.append(json.loads(text))
    return lines


def aggregate(lines: Iterable[dict[str, Any]], pytest_exit: int | None = None) -> Summary:
    """Rows of the table from the report's lines, in order: figure lines ({"check": ...})
    belong to the next outcome line ({"test": ..., "outcome": ...}); figure lines with no
    outcome after them (a report written without the plugin) are checks that passed, since
    a check records its figures at its end."""
    rows: list[Row] = []
    pending: list[dict[str, Any]] = []
    totals = dict.fromkeys(FIGURES, 0.0)

    def row_of(checks: list[dict[str, Any]], result: str, test: str | None) -> Row:
        figures: dict[str, float] = {}
        notes: dict[str, float] = {}
        for line in checks:
            for name in FIGURES:
                if name in line:
                    figures[name] = figures.get(name, 0) + line[name]
                    totals[name] += line[name]
            for name in NOTES:
                if name in line:  # several records of one test: the worst (highest) figure
                    notes[name] = max(notes.get(name, line[name]), line[name])
        name = ", ".join(dict.fromkeys(str(c["check"]) for c in checks)) or _short(test or "?")
        return Row(name, result, test, figures, notes)

    for line in lines:
        if "check" in line:
            pending.append(line)
        elif "test" in line:
            rows.append(row_of(pending, str(line.get("outcome", "error")), line["test"]))
            if "seconds" in line and "seconds" not in rows[-1].notes:
                rows[-1].notes["seconds"] = round(float(line["seconds"]), 1)
            pending = []
    for line in pending:
        rows.append(row_of([line], "passed", None))
    return Summary(rows, totals, pytest_exit)


def _short(nodeid: str) -> str:
    return nodeid.rsplit("/", 1)[-1]


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}"


def render(summary: Summary) -> str:
    """The table, in plain text (it reads the same in a terminal, a CI log and a file)."""
    head = ["check", "result", *(HEADINGS[f] for f in FIGURES), "notes"]
    body = []
    for row in summary.rows:
        result = "FAIL" if row.failed else {"passed": "pass", "skipped": "skip"}.get(row.result, row.result)
        body.append(
            [
                row.name,
                result,
                *(_number(row.figures[f]) if f in row.figures else "" for f in FIGURES),
                " ".join(f"{k}={_number(v)}" for k, v in row.notes.items()),
            ]
        )
    passed = sum(r.result == "passed" and not r.failed for r in summary.rows)
    total = [
        f"TOTAL ({passed}/{len(summary.rows)} passed)",
        "PASS" if summary.ok else "FAIL",
        *(_number(summary.totals.get(f, 0)) for f in FIGURES),
        "",
    ]
    widths = [max(len(str(r[i])) for r in [head, *body, total]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            numeric = 2 <= i < 2 + len(FIGURES)
            out.append(cell.rjust(widths[i]) if numeric else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    text = [line(head), rule, *(line(r) for r in body), rule, line(total)]
    if summary.pytest_exit not in (None, 0):
        text.append(f"pytest exited with status {summary.pytest_exit}")
    for name in MUST_BE_ZERO:
        if summary.totals.get(name, 0):
            text.append(f"{HEADINGS[name]}: {_number(summary.totals[name])} (must be 0)")
    return "\n".join(text)


def verify(
    ctx: typer.Context,
    quick: bool = typer.Option(
        False,
        "--quick",
        help="The short variants (as in CI), without REGIA_VERIFY_LONG=1: minutes instead of a quarter of an hour",
    ),
    json_path: Path | None = typer.Option(None, "--json", help="Also write the figures as JSON here"),
    from_report: Path | None = typer.Option(
        None, "--from-report", help="Do not run anything: print the table of a report written by an earlier run"
    ),
) -> None:
    """Run the fault, input and load checks and print what they survived (euros lost and
    alerts duplicated must be 0). Exits non-zero if any check failed. Extra arguments go to pytest."""
    if from_report is not None:
        summary = aggregate(read_lines(from_report))
    else:
        dirs = [d for d in CHECK_DIRS if (REPO_ROOT / d).is_dir()]
        if not dirs:
            typer.echo(
                f"error: none of {', '.join(CHECK_DIRS)} in {REPO_ROOT}: `regia verify` runs from a source checkout",
                err=True,
            )
            raise typer.Exit(2)
        with tempfile.TemporaryDirectory(prefix="regia-verify-") as tmp:
            report = Path(tmp) / "figures.jsonl"
            env = {**os.environ, "REGIA_VERIFY_REPORT": str(report)}
            env.pop("REGIA_VERIFY_LONG", None)
            if not quick:
                env["REGIA_VERIFY_LONG"] = "1"
            argv = [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "regia.operator.verify",
                "-p",
                "no:cacheprovider",
                "-q",
                *dirs,
                *ctx.args,
            ]
            typer.echo(f"running {' '.join(dirs)} ({'quick' if quick else 'long variants'})", err=True)
            exit_code = subprocess.run(argv, cwd=REPO_ROOT, env=env).returncode
            summary = aggregate(read_lines(report), exit_code)
    typer.echo(render(summary))
    if json_path is not None:
        json_path.write_text(json.dumps(summary.to_json(), indent=2) + "\n", encoding="utf-8")
    if not summary.ok:
        raise typer.Exit(1)


# --- pytest plugin (`pytest -p regia.operator.verify`): one outcome line per test -----------------

_outcomes: dict[str, str] = {}
_started: dict[str, float] = {}


def _append(line: dict[str, Any]) -> None:
    target = os.environ.get("REGIA_VERIFY_REPORT")
    if target:
        with Path(target).open("a", encoding="utf-8") as report:
            report.write(json.dumps(line, sort_keys=True) + "\n")


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    _started[nodeid] = time.monotonic()


def pytest_runtest_logreport(report: Any) -> None:
    if report.failed:
        _outcomes[report.nodeid] = "failed" if report.when == "call" else "error"
    elif report.skipped and report.nodeid not in _outcomes:
        _outcomes[report.nodeid] = "skipped"
    elif report.when == "call" and report.passed:
        _outcomes.setdefault(report.nodeid, "passed")


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    seconds = time.monotonic() - _started.pop(nodeid, time.monotonic())
    _append({"test": nodeid, "outcome": _outcomes.pop(nodeid, "error"), "seconds": round(seconds, 2)})


def pytest_collectreport(report: Any) -> None:
    if report.failed:
        _append({"test": report.nodeid or "collection", "outcome": "error"})
