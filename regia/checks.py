"""What `regia test` runs before pytest, and how it runs pytest.

The static checks (ruff's lint, ruff's format check, mypy over every package as
pyproject.toml configures it) take seconds and run first, each reported on one line;
pytest still runs when one fails, so a single run shows everything that is wrong.
"""

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

CHECKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ruff check", ("ruff", "check", ".")),
    ("ruff format", ("ruff", "format", "--check", ".")),
    ("mypy", ("mypy",)),
)


def static_checks(root: Path) -> list[str]:
    """Run each check from `root`; return the names of those that failed."""
    failed = []
    for name, argv in CHECKS:
        started = time.monotonic()
        completed = subprocess.run([sys.executable, "-m", *argv], cwd=root, capture_output=True, text=True)
        took = time.monotonic() - started
        if completed.returncode == 0:
            print(f"regia test: {name} passed ({took:.0f} s)", flush=True)
        else:
            print(completed.stdout + completed.stderr, flush=True)
            print(f"regia test: {name} FAILED ({took:.0f} s)", flush=True)
            failed.append(name)
    return failed


# Workers beyond the CPUs: most tests wait on a broker, a database or a consumer group's
# first assignment (a second on the embedded broker) rather than on a core. On two cores,
# the whole suite back to back: three workers left the cores 25 % idle and took 692 s, four
# 16 % and 602 s; five took longer than four, with one test late past a timing window
# (docs/performance.md, issue 21's seventeenth session).
EXTRA_WORKERS = 2


def workers() -> int:
    """REGIA_TEST_WORKERS, or EXTRA_WORKERS more than the CPUs this process may use."""
    given = os.environ.get("REGIA_TEST_WORKERS", "").strip()
    if given:
        return int(given)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cpus + EXTRA_WORKERS


def pytest_arguments(args: Sequence[str]) -> list[str]:
    """The caller's arguments, plus the parallel workers unless the caller chose (-n, -p no:xdist).

    `--dist loadfile` hands out whole files: a module's fixtures (a whole `regia up`, a
    browser) then start once, as in a serial run. (`loadgroup` would hand out single tests
    but for marked modules; with pytest 9.2 and pytest-xdist 3.8 its marks are lost, since
    xdist renames `item._nodeid`, which pytest no longer reads.)"""
    chosen = any(a == "-n" or a.startswith("-n") or a.startswith("--numprocesses") for a in args)
    chosen |= any("no:xdist" in a for a in args)
    if chosen:
        return list(args)
    return ["-n", str(workers()), "--dist", "loadfile", *args]
