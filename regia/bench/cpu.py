"""CPU time per process and phase, read from /proc: where a benchmark's seconds went when
every process shares the same two cores. PostgreSQL counts as its postmaster, its live
backends and the backends that have exited (the postmaster's reaped children's time)."""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


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
        self.pids: dict[str, tuple[int, bool]] = {"bench (clients)": (os.getpid(), False)}
        self._last: dict[str, float] = {}
        self.by_phase: dict[str, dict[str, float]] = {}

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
