"""The benchmark's open-loop schedule: request i is due at start + i / rate, and its latency
runs from then, so a request that waited behind slow answers (or a late load generator)
counts its wait, which a closed loop would leave out."""

import asyncio

from regia.bench.open_loop import Timing, due, run_schedule, summarise


def test_requests_are_due_at_fixed_intervals_of_the_rate() -> None:
    assert [due(10.0, i, 4.0) for i in range(4)] == [10.0, 10.25, 10.5, 10.75]


def test_latency_runs_from_the_scheduled_start_not_from_when_the_request_was_sent() -> None:
    # 100/s: due at 0, 10, 20, 30 ms. The third started 40 ms late (the generator was
    # busy) and took 5 ms: its latency is 45 ms, though the server answered in 5.
    timings = [
        Timing(scheduled=0.000, began=0.000, finished=0.005, ok=True),
        Timing(scheduled=0.010, began=0.010, finished=0.015, ok=True),
        Timing(scheduled=0.020, began=0.060, finished=0.065, ok=True),
        Timing(scheduled=0.030, began=0.060, finished=0.070, ok=False),
    ]
    found = summarise(100.0, timings)
    assert found["requests"] == 4 and found["failures"] == 1
    assert found["max_ms"] == 45.0 and found["p99_ms"] == 45.0  # the nearest rank of 4: the largest
    assert found["service_p99_ms"] == 10.0  # the fourth's 10 ms, from when it began
    assert found["start_lag_p99_ms"] == 40.0
    # three intervals of the schedule took 60 ms instead of 30: half the rate, not kept
    assert found["achieved_rate_per_s"] == 50.0 and found["schedule_kept"] is False
    assert found["answered_rate_per_s"] == round(4 / 0.070, 1) and found["seconds"] == 0.07


def test_a_schedule_kept_on_time_is_kept_unless_a_request_waited_for_a_connection() -> None:
    timings = [Timing(scheduled=i / 200, began=i / 200 + 0.001, finished=i / 200 + 0.004, ok=True) for i in range(200)]
    found = summarise(200.0, timings)
    assert found["achieved_rate_per_s"] == 200.0 and found["schedule_kept"] is True
    assert found["p50_ms"] == found["p99_ms"] == 4.0
    assert summarise(200.0, timings, waited_for_connection=1)["schedule_kept"] is False


def test_no_requests_is_a_schedule_not_kept() -> None:
    assert summarise(100.0, []) == {"requests": 0, "target_rate_per_s": 100.0, "schedule_kept": False}


def test_run_schedule_starts_requests_without_waiting_for_earlier_answers() -> None:
    """Each answer takes 50 ms, four times the schedule's interval: a closed loop of one
    client would send at 20/s; the open loop still starts all of them at 80/s."""
    in_flight: list[int] = []
    busy = 0

    async def send(i: int) -> bool:
        nonlocal busy
        busy += 1
        in_flight.append(busy)
        await asyncio.sleep(0.05)
        busy -= 1
        return i != 3

    timings = asyncio.run(run_schedule(80.0, 12, send))
    assert len(timings) == 12 and [t.ok for t in timings].count(False) == 1
    assert max(in_flight) >= 3  # several were answered after later ones had started
    assert all(t.finished - t.scheduled >= 0.05 for t in timings)
    scheduled = [t.scheduled for t in timings]
    assert all(abs((b - a) - 1 / 80) < 1e-9 for a, b in zip(scheduled, scheduled[1:], strict=False))
