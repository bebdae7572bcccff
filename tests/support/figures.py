"""Figures a check reports for `regia verify`'s table: faults survived, inputs tried,
requests held, euros lost, alerts duplicated.

A test calls `record("sigkill objectives.funding", faults=1, euros_lost=0, ...)`; when
REGIA_VERIFY_REPORT names a file (as `regia verify` sets it), one JSON line is appended to
it. Outside `regia verify` this does nothing: the test's assertions are what pass or fail.
"""

import json
import os
import time
from pathlib import Path

FIGURES = ("faults", "inputs", "requests", "euros_lost", "alerts_duplicated", "alerts_resent")


def record(check: str, **figures: float) -> None:
    unknown = set(figures) - set(FIGURES) - {"seconds", "rate_per_s", "peak_rss_mib", "errors"}
    if unknown:
        raise ValueError(f"unknown figures {sorted(unknown)}; known: {FIGURES}")
    target = os.environ.get("REGIA_VERIFY_REPORT")
    if not target:
        return
    line = json.dumps({"check": check, "at": time.time(), **figures}, sort_keys=True)
    with Path(target).open("a", encoding="utf-8") as report:
        report.write(line + "\n")
