"""The benchmark's verdicts, from figures given here: issue 21's targets (each a pass or a
fail, named by what was actually run), CPU per event, and memory judged flat on the soak."""

from regia.bench.cpu import per_event_ms
from regia.bench.run import flatness, memory, table, targets


def at_rate(rate: float, p99_s: float | None) -> dict:
    return {
        "rate_per_s": rate,
        "events": int(rate * 30),
        "failures": 0,
        "achieved_rate_per_s": rate,
        "alerts_delivered": int(rate * 45),
        "messages": int(rate * 45),
        "p50_s": None if p99_s is None else p99_s / 2,
        "p99_s": p99_s,
        "histogram_p99_s": 0.2,
        "hops": {"chains": {"count": 10}, "e-mail accepted": {"p50_ms": 3.0, "p99_ms": 9.0}},
        "cpu_ms_per_event": {"notifier": 1.5, "funding": 0.5, "total": 2.0},
        "cpu_settled": True,
    }


def result() -> dict:
    """A run of every section but the reads, with every figure on its target's good side."""
    cpu = {"funding": 0.03, "objectives": 0.03, "postgres": 0.04, "broker": 0.02, "bench (clients)": 0.01}
    return {
        "limits": {"broker": {"events_per_s": 20_000.0}},
        "baseline": {"events_per_s": 200.0},
        "end_to_end": {
            "events_per_s": 4_100.0,  # 20.5x the baseline, 0.205 of the broker
            "cpu_ms_per_event": per_event_ms({k: v * 100_000 / 1000 for k, v in cpu.items()}, 100_000),
        },
        "http": {
            "single": {"events_per_s": 900.0, "p99_ms": 60.0},  # closed loop: information only
            "batch": {"events_per_s": 21_000.0},
            "single_at_rate": {"target_rate_per_s": 1_500.0, "p99_ms": 42.0},
        },
        "propagation": at_rate(200.0, 0.2) | {"at_rates": {"200": at_rate(200.0, 0.2), "400": at_rate(400.0, 0.45)}},
        "soak": {"seconds": 600.0, "target_rate_per_s": 200.0},
        "memory": {
            "funding": {"service": True, "flat_phase": "soak", "flat": True},
            "postgres": {"service": False, "flat_phase": "soak", "flat": False},  # not a service: not judged
        },
    }


def verdicts(found: dict) -> dict[str, bool]:
    return {t["name"]: t["pass"] for t in targets(found)}


def test_every_target_of_issue_21_is_judged_and_named_by_what_ran() -> None:
    assert verdicts(result()) == {
        "end-to-end >= 15x the per-message baseline": True,
        "end-to-end >= 0.2 of the raw broker rate": True,
        "CPU per event (all processes) <= 0.15 ms": True,
        "HTTP single p99 < 50 ms at 1,500 req/s": True,
        "HTTP batch >= 20,000 events/s": True,
        "propagation p99 < 0.25 s at 200 events/s": True,
        "propagation p99 < 0.5 s at 400 events/s": True,
        "memory flat over a 10-minute run at 200 events/s": True,
    }


def test_each_figure_on_the_wrong_side_fails_its_own_target_only() -> None:
    found = result()
    found["end_to_end"]["events_per_s"] = 2_900.0  # 14.5x the baseline, 0.145 of the broker
    found["end_to_end"]["cpu_ms_per_event"]["total"] = 0.1501
    found["http"]["single_at_rate"]["p99_ms"] = 50.0  # "under 50 ms": 50 is not under
    found["http"]["batch"]["events_per_s"] = 19_999.0
    found["propagation"]["at_rates"]["400"]["p99_s"] = 0.5
    found["memory"]["funding"]["flat"] = False
    judged = verdicts(found)
    assert judged.pop("propagation p99 < 0.25 s at 200 events/s") is True
    assert not any(judged.values()), judged


def test_the_bounds_themselves() -> None:
    found = result()
    found["end_to_end"]["events_per_s"] = 4_000.0  # 20x the baseline and exactly 0.2 of the broker
    found["end_to_end"]["cpu_ms_per_event"]["total"] = 0.15  # "at most": 0.15 passes
    judged = verdicts(found)
    assert judged["end-to-end >= 0.2 of the raw broker rate"] is True
    assert judged["CPU per event (all processes) <= 0.15 ms"] is True


def test_a_rate_with_no_alert_timed_fails_and_a_rate_without_a_target_is_not_judged() -> None:
    found = result()
    found["propagation"]["at_rates"] = {"200": at_rate(200.0, None), "300": at_rate(300.0, 0.1)}
    rows = {t["name"]: t for t in targets(found)}
    assert rows["propagation p99 < 0.25 s at 200 events/s"]["pass"] is False
    assert not any("300 events/s" in name for name in rows)


def test_targets_need_their_sections() -> None:
    found = result()
    for section in ("baseline", "limits", "http", "propagation", "soak"):
        del found[section]
    found["memory"]["funding"]["flat_phase"] = "end_to_end"
    assert verdicts(found) == {
        "CPU per event (all processes) <= 0.15 ms": True,
        "memory flat (services' RSS, end-to-end phase)": True,
    }


def test_cpu_per_event_per_process_and_in_all() -> None:
    per = per_event_ms({"funding": 3.0, "postgres": 4.5, "broker": 0.0}, 30_000)
    assert per == {"funding": 0.1, "postgres": 0.15, "broker": 0.0, "total": 0.25}
    assert per_event_ms({"funding": 1.0}, 0) == {}


def test_flatness_compares_the_last_thirds_peak_with_the_firsts() -> None:
    assert flatness([100.0] * 5) is None  # thirds of one sample say nothing
    assert flatness([100, 110, 100, 105, 100, 114.9]) == {
        "first_third_mib": 110.0,
        "last_third_mib": 114.9,
        "flat": True,
    }
    assert flatness([100, 100, 100, 100, 100, 115.1])["flat"] is False  # type: ignore[index]


def test_memory_is_judged_on_the_soak_when_it_ran_else_on_end_to_end() -> None:
    grows_in_soak = [("end_to_end", 100.0)] * 6 + [("soak", 100.0)] * 3 + [("soak", 130.0)] * 3
    found = memory({"funding": grows_in_soak, "postgres": [("setup", 50.0)]}, ["funding"])
    assert found["funding"] | {"peak_by_phase_mib": None} == {
        "peak_rss_mib": 130.0,
        "peak_by_phase_mib": None,
        "service": True,
        "flat_phase": "soak",
        "first_third_mib": 100.0,
        "last_third_mib": 130.0,
        "flat": False,
    }
    assert found["funding"]["peak_by_phase_mib"] == {"end_to_end": 100.0, "soak": 130.0}
    assert "flat" not in found["postgres"] and found["postgres"]["service"] is False
    no_soak = memory({"funding": [(p, m) for p, m in grows_in_soak if p == "end_to_end"]}, ["funding"])
    assert no_soak["funding"]["flat_phase"] == "end_to_end" and no_soak["funding"]["flat"] is True


def test_the_table_shows_cpu_per_event_under_end_to_end_and_every_target() -> None:
    found = result()
    found["end_to_end"] |= {"events": 100_000, "objectives": 10_000, "seconds": 24.4, "coverage_exact": True}
    found["memory"] = memory({"funding": [("soak", 90.0)] * 9}, ["funding"])
    found["targets"] = targets(found)
    del found["limits"], found["baseline"], found["http"], found["propagation"], found["soak"]
    lines = table(found).splitlines()
    e2e = next(i for i, line in enumerate(lines) if line.startswith("Regia end-to-end"))
    assert lines[e2e + 1].split()[:6] == ["CPU", "per", "event,", "all", "processes", "(ms)"]
    assert lines[e2e + 1].split()[6] == "0.1300"
    assert lines[e2e + 2].split()[-1] == "0.0400"  # then each process, the busiest first: postgres
    assert any("soak: first third 90.0, last third 90.0 MiB, flat=True" in line for line in lines)
    assert sum(line.startswith("target: ") for line in lines) == len(found["targets"])
