"""The `reads` section: what a console and a board read, at a region's size.

The read set (readset.py) is seeded into the running services' tables, the coverage rebuild
checks it against the service's own computation, and each read is timed one request at a
time (a person's page load, not a load test) after a short warm-up: p50 and p99 against the
issue's limit, 100 ms at p99 whatever the size.

The paths are constants: the endpoints of issue 18 are young, and a renamed one is one line
to change here. A read that answers anything but 200 fails its row and says what it got.
"""

import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from .harness import Stack
from .readset import ReadSet, seed

LIMIT_MS = 100.0

OBJECTIVE_PAGE = "/v1/objectives/{objective_id}"
PLAN_TREE = "/v1/plans/{plan_id}"
OBJECTIVES = "/v1/objectives"
CHANGES = "/v1/objectives/{objective_id}/changes"
SUMMARY = "/v1/summary"
FUNDING_LINES = "/v1/funding-lines"
REBUILD = "/v1/admin/rebuild/coverage"


@dataclass(frozen=True)
class Read:
    name: str
    service: str
    path: str
    params: dict[str, str]


def reads(ids: dict[str, str], year: int) -> list[Read]:
    big, plan = ids["big_objective"], ids["plan_id"]
    return [
        Read("objective page (88k-line objective)", "objectives", OBJECTIVE_PAGE.format(objective_id=big), {}),
        Read("plan tree (3,000 nodes)", "objectives", PLAN_TREE.format(plan_id=plan), {"fiscal_year": str(year)}),
        Read("overview summary (every objective, one year)", "objectives", SUMMARY, {"fiscal_year": str(year)}),
        Read("at-risk overview list", "objectives", OBJECTIVES, {"status": "AT_RISK", "sort": "gap"}),
        Read(
            "filtered list (year, lead, search)",
            "objectives",
            OBJECTIVES,
            {"fiscal_year": str(year), "lead": ids["lead"], "q": "porto"},
        ),
        Read(
            "page of lines (88k-line objective, -committed)",
            "funding",
            FUNDING_LINES,
            {"objective_id": big, "sort": "-committed"},
        ),
        Read("changes (88k-line objective)", "objectives", CHANGES.format(objective_id=big), {}),
    ]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))] if ordered else 0.0


async def measure(client: httpx.AsyncClient, url: str, params: dict[str, str], requests: int) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    size = 0
    for n in range(requests + 3):  # three to warm up (connections, caches, the planner)
        started = time.perf_counter()
        r = await client.get(url, params=params)
        took = time.perf_counter() - started
        size = len(r.content)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        if r.status_code != 200:
            return {"status": r.status_code, "error": r.text[:200], "pass": False}
        if n >= 3:
            latencies.append(took)
    p99 = percentile(latencies, 99) * 1000
    return {
        "status": 200,
        "requests": requests,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "body_bytes": size,
        "pass": p99 < LIMIT_MS,
    }


async def run_reads(stack: Stack, rs: ReadSet, requests: int, verify: bool = True) -> dict[str, Any]:
    report = await seed(stack.dsn, rs)
    result: dict[str, Any] = {
        "read_set": asdict(rs),
        "seeded": asdict(report),
        "limit_p99_ms": LIMIT_MS,
        "measured": "each read alone, one request at a time over a kept-alive connection, gzip accepted,"
        f" {requests} requests after 3 to warm up; the admin token",
    }
    async with httpx.AsyncClient(headers=stack.admin_headers, timeout=120) as client:
        if verify:
            # The rebuild recomputes every objective-year with the service's code and
            # rewrites (and publishes) only what differs: 0 events means the seeder wrote
            # what the service computes.
            started = time.perf_counter()
            r = await client.post(f"{stack.services['objectives'].url}{REBUILD}", timeout=3600)
            body = r.json() if r.status_code == 200 else {"status": r.status_code, "error": r.text[:200]}
            result["rebuild_check"] = body | {"took_seconds": round(time.perf_counter() - started, 3)}
        year = 2027 if 2027 in rs.years else rs.years[-1]
        result["reads"] = {}
        for read in reads(report.ids, year):
            url = f"{stack.services[read.service].url}{read.path}"
            result["reads"][read.name] = {"path": read.path, "params": read.params} | await measure(
                client, url, read.params, requests
            )
    return result
