"""How `regia up` treats a child that exits on its own: the decisions, with no I/O.

Policy (what an operator running the stack in a terminal wants): a child that crashes is
started again, and the rest of the stack keeps running, so the console, the other services
and the data stay at hand while the operator reads the log. The first restart comes after
a second. A child that dies within `QUICK_S` of starting is crash-looping (a broken
migration, a port someone took, a bad edit in a service's code): each further quick death
doubles the wait, up to `MAX_DELAY_S`, and says so loudly with the log to read; `regia up`
keeps trying at that pace rather than giving up, because the usual fix (edit the code, free
the port, start the database) happens while it runs, and the child then comes back by
itself. A child that had stayed up longer than `QUICK_S` starts again from the short wait.
Ctrl-C stops everything, restarting or not.
"""

import signal
from dataclasses import dataclass

FIRST_DELAY_S = 1.0
MAX_DELAY_S = 60.0
QUICK_S = 30.0  # dying sooner than this after a start counts towards a crash loop
CRASH_LOOP = 3  # quick deaths in a row that make it a crash loop


def how_it_ended(returncode: int | None) -> str:
    """`exit status 3` or `killed by SIGKILL` (Popen gives a signal as a negative code)."""
    if returncode is None:
        return "exit status unknown"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


@dataclass
class Restarts:
    """The restart history of one child."""

    quick_deaths: int = 0  # in a row, each within QUICK_S of its start

    def died(self, uptime_s: float) -> float:
        """Record a death after `uptime_s` seconds up; the wait before the next start."""
        self.quick_deaths = self.quick_deaths + 1 if uptime_s < QUICK_S else 1
        return min(FIRST_DELAY_S * 2 ** (self.quick_deaths - 1), MAX_DELAY_S)

    @property
    def crash_looping(self) -> bool:
        return self.quick_deaths >= CRASH_LOOP
