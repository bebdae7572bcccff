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

from pydantic import BaseModel

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
