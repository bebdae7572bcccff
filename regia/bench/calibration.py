"""How fast this machine runs Python right now: the CPU seconds of a fixed piece of work of
the kind the services do (JSON read and validated into a pydantic model, then written out).

The same code on the same machine has cost twice the CPU seconds from one hour to the next
(a per-message baseline of 10,000 events took 22.6 CPU-seconds in one run and 44.5 an hour
later), so CPU per event is comparable between runs only beside a measure of the machine
taken in the same run. This is that measure: taken at the start and at the end of a run,
alone on the machine (nothing of the run is started yet or left), the best of three tries.
"""

import json
import time
from pathlib import Path

import asyncpg
from pydantic import BaseModel

from .cpu import cpu_seconds

ROUNDS = 20_000


class _Event(BaseModel):
    line_id: str
    objective_id: str
    fiscal_year: int
    committed_cents: int
    reason: str | None = None


def _work() -> None:
    for n in range(ROUNDS):
        raw = json.dumps(
            {"line_id": f"L-{n}", "objective_id": f"obj-{n % 97}", "fiscal_year": 2027, "committed_cents": n * 100}
        )
        _Event.model_validate_json(raw).model_dump_json()


def calibrate(tries: int = 3) -> float:
    """CPU seconds of the fixed work, the best of `tries`."""
    best = float("inf")
    for _ in range(tries):
        began = time.process_time()
        _work()
        best = min(best, time.process_time() - began)
    return round(best, 4)


# How many `SELECT 1` round trips one try of `round_trip` makes.
ROUND_TRIPS = 3_000


async def round_trip(dsn: str, tries: int = 3) -> dict[str, float] | None:
    """CPU microseconds of one round trip to PostgreSQL, the client's (this thread's) and
    the server's (its backend's), the best of `tries` runs of `ROUND_TRIPS` in a row.

    The calibration above times Python; it does not see what a round trip costs, which is
    the kernel's send and the other side's wake-up, and on a virtual machine can move by a
    fifth within an hour while the Python figure stays put (docs/performance.md, issue 21,
    eighth session). Every steady-rate figure is mostly round trips, so it is read beside
    this. None where the backend's CPU cannot be read (no /proc)."""
    conn = await asyncpg.connect(dsn)
    try:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        if not _readable(backend):
            return None
        best: tuple[float, float] | None = None
        for _ in range(tries):
            began, server = time.thread_time(), cpu_seconds(backend)
            for _ in range(ROUND_TRIPS):
                await conn.fetchval("SELECT 1")
            client = (time.thread_time() - began) / ROUND_TRIPS * 1e6
            served = (cpu_seconds(backend) - server) / ROUND_TRIPS * 1e6
            if best is None or client + served < sum(best):
                best = (client, served)
    finally:
        await conn.close()
    assert best is not None
    return {"client_us": round(best[0], 1), "server_us": round(best[1], 1)}


def _readable(pid: int) -> bool:
    """Whether a process's CPU can be read (/proc, which never blocks on a disk)."""
    return Path(f"/proc/{pid}/stat").exists()
