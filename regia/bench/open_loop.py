"""Load on a fixed schedule (open loop): request i starts at `start + i / rate` whether or not
the earlier ones have been answered, and its latency runs from that scheduled start.

A closed loop (N clients, each sending its next request when the last is answered) slows
down with the server and so never sees the queue a steady arrival rate builds: the requests
it did not send while the server was slow are never timed ("coordinated omission"). Timing
from the scheduled start counts that wait, including the load generator's own lateness when
it shares the cores with what it measures.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

# The schedule counts as kept when requests started at least this fraction of the target
# rate and none waited for a free connection.
KEPT = 0.95


@dataclass(frozen=True)
class Timing:
    scheduled: float  # when the schedule said the request starts
    began: float  # when the load generator got to it
    finished: float  # when its answer (or failure) came
    ok: bool


def due(start: float, i: int, rate: float) -> float:
    """When request `i` of a schedule beginning at `start` must start."""
    return start + i / rate


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile (0 for no values), as every section of the benchmark reports."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


async def run_schedule(rate: float, count: int, send: Callable[[int], Awaitable[bool]]) -> list[Timing]:
    """Start `send(i)` for i in 0..count-1 on the schedule; `send` says whether it succeeded.
    Requests that fall due while the generator was late start at once, in order, each
    still timed from when it was due."""
    timings: list[Timing] = []
    running: set[asyncio.Task] = set()

    async def one(i: int, scheduled: float) -> None:
        began = time.perf_counter()
        ok = await send(i)
        timings.append(Timing(scheduled, began, time.perf_counter(), ok))

    start = time.perf_counter()
    for i in range(count):
        scheduled = due(start, i, rate)
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i, scheduled))
        running.add(task)  # held until done (the loop keeps only weak references)
        task.add_done_callback(running.discard)
    while running:
        await asyncio.gather(*running)
    return sorted(timings, key=lambda t: t.scheduled)


def summarise(rate: float, timings: list[Timing], waited_for_connection: int = 0) -> dict:
    """Latency from the scheduled start (p50, p99, max), the service time alone (from when
    the request actually started), how late the generator started requests, the rates
    achieved (started and answered per second) and whether the schedule was kept."""
    if not timings:
        return {"requests": 0, "target_rate_per_s": rate, "schedule_kept": False}
    latency = [t.finished - t.scheduled for t in timings]
    service = [t.finished - t.began for t in timings]
    lag = [max(0.0, t.began - t.scheduled) for t in timings]
    first = min(t.scheduled for t in timings)
    first_began, last_began = min(t.began for t in timings), max(t.began for t in timings)
    last_finished = max(t.finished for t in timings)
    n = len(timings)
    # n requests span n - 1 intervals of the schedule: kept exactly, this is `rate`
    achieved = (n - 1) / (last_began - first_began) if n > 1 and last_began > first_began else rate
    return {
        "requests": n,
        "target_rate_per_s": rate,
        "achieved_rate_per_s": round(achieved, 1),
        "answered_rate_per_s": round(n / max(last_finished - first, 1e-9), 1),
        "schedule_kept": achieved >= KEPT * rate and waited_for_connection == 0,
        "p50_ms": round(percentile(latency, 50) * 1000, 1),
        "p99_ms": round(percentile(latency, 99) * 1000, 1),
        "max_ms": round(max(latency) * 1000, 1),
        "service_p99_ms": round(percentile(service, 99) * 1000, 1),
        "start_lag_p99_ms": round(percentile(lag, 99) * 1000, 1),
        "failures": sum(not t.ok for t in timings),
        "seconds": round(last_finished - first, 3),
    }
