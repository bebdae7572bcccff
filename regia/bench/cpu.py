"""CPU time per process and phase, read from /proc: where a benchmark's seconds went when
every process shares the same two cores. PostgreSQL counts as its postmaster, its live
backends and the backends that have exited (the postmaster's reaped children's time)."""

import asyncio
import os
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
CLIENTS = "bench (clients)"  # the benchmark's own process: its load generators and watchers
IDLE_AT_MOST = 0.75  # cores: the processes under test at rest use less (about 0.3 in 2026-12)


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the state on (the name may hold spaces)


def cpu_seconds(pid: int, with_children: bool = False) -> float:
    """utime + stime of `pid`; with its children, live and reaped, for a postmaster."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    own = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    if not with_children:
        return own / TICKS
    reaped = int(fields[13]) + int(fields[14])  # cutime, cstime
    live = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            child = _stat(int(entry.name))
            if child is not None and int(child[1]) == pid:  # ppid
                live += int(child[11]) + int(child[12])
    return (own + reaped + live) / TICKS


class CpuMeter:
    """Cumulative CPU seconds of named processes, differenced between phases."""

    def __init__(self) -> None:
        self.pids: dict[str, tuple[int, bool]] = {CLIENTS: (os.getpid(), False)}
        self._last: dict[str, float] = {}
        self.by_phase: dict[str, dict[str, float]] = {}
        self.idle_cores = 0.0  # the processes under test together, with no load (measure_idle)

    def watch(self, name: str, pid: int, with_children: bool = False) -> None:
        self.pids[name] = (pid, with_children)
        self._last.setdefault(name, cpu_seconds(pid, with_children))

    def close_phase(self, phase: str) -> None:
        spent: dict[str, float] = {}
        for name, (pid, children) in self.pids.items():
            now = cpu_seconds(pid, children)
            spent[name] = round(now - self._last.get(name, now), 2)
            self._last[name] = now
        self.by_phase[phase] = spent

    def snapshot(self) -> dict[str, float]:
        """Each process's cumulative CPU seconds now: a section's window starts here."""
        return {name: cpu_seconds(pid, children) for name, (pid, children) in self.pids.items()}

    def since(self, start: dict[str, float]) -> dict[str, float]:
        """CPU seconds each process spent since `start` (a snapshot), unrounded."""
        now = self.snapshot()
        return {name: max(0.0, now[name] - start.get(name, now[name])) for name in now}

    async def _rates(self, interval: float) -> dict[str, float]:
        """Cores each process uses over the next `interval` seconds."""
        before, began = self.snapshot(), time.monotonic()
        await asyncio.sleep(interval)
        now, took = self.snapshot(), max(time.monotonic() - began, 1e-9)
        return {name: (now[name] - before.get(name, now[name])) / took for name in now}

    async def measure_idle(self, *, interval: float = 0.5, timeout: float = 60.0) -> dict[str, float]:
        """Cores each process uses with no load: consumers polling the broker, heartbeats,
        timers. It is spent during every section too, so it is part of each one's CPU per
        event, and settled() waits down to it. Taken once the use of the processes under test
        has levelled off low (four intervals alike, under IDLE_AT_MOST cores: the work that
        came before is done), as their mean; the quietest interval seen if it never levels
        off within `timeout`."""
        seen: list[dict[str, float]] = []
        deadline = time.monotonic() + timeout
        while True:
            seen.append(await self._rates(interval))
            last = [_busy(r) for r in seen[-4:]]
            level = len(last) == 4 and max(last) - min(last) <= 0.05 + 0.15 * min(last)
            if (level and max(last) < IDLE_AT_MOST) or time.monotonic() > deadline:
                break
        if level:
            idle = {name: sum(r[name] for r in seen[-4:]) / 4 for name in seen[-1]}
        else:
            idle = min(seen, key=_busy)
        self.idle_cores = _busy(idle)
        return {name: round(cores, 3) for name, cores in idle.items()}

    async def settled(self, *, interval: float = 0.5, timeout: float = 60.0) -> bool:
        """Wait until the processes under test (all but the benchmark's own) are back near
        their idle use (measure_idle; within half of it, or 0.1 of a core): work that trails a
        section (the notifier and partners reading what objectives published, outboxes
        draining) is then done and is charged to the section. False if not within `timeout`."""
        quiet = self.idle_cores + max(0.1, 0.5 * self.idle_cores)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _busy(await self._rates(interval)) < quiet:
                return True
        return False


def _busy(rates: dict[str, float]) -> float:
    """What the processes under test use together (the benchmark's own process left out)."""
    return sum(cores for name, cores in rates.items() if name != CLIENTS)


def per_event_ms(spent: dict[str, float], events: int) -> dict[str, float]:
    """Milliseconds of CPU per event for each process and for all of them (`total`): what a
    section's events cost the machine, whatever else slowed its wall clock."""
    if events <= 0:
        return {}
    found = {name: round(seconds * 1000 / events, 4) for name, seconds in spent.items()}
    found["total"] = round(sum(spent.values()) * 1000 / events, 4)
    return found
