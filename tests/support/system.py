"""Services of a test system as separate OS processes, started and stopped in order."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

from regia.local.embedded.process import ManagedProcess, ProcessFailed

from .services import BIND_TRIES, RunningService, service_process


class System:
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.processes: dict[str, ManagedProcess] = {}
        self.services: dict[str, RunningService] = {}

    def start(self, name: str, extra_env: dict[str, str] | None = None) -> RunningService:
        """Start (or restart, on the same port) one service and wait until it is ready."""
        port = self.services[name].port if name in self.services else None
        for attempt in range(BIND_TRIES):
            process, running = service_process(name, {**self.env, **(extra_env or {})}, self.log_dir, port)
            try:
                process.start(timeout=90)
                break
            except ProcessFailed as failed:
                # A free port is chosen before the child binds it, and another test's process
                # may take it in between: a first start tries another port; a restart keeps its
                # own, which nobody else can have been given.
                if port is not None or "address already in use" not in str(failed) or attempt == BIND_TRIES - 1:
                    raise
        self.processes[name], self.services[name] = process, running
        return running

    def kill(self, name: str) -> None:
        self.processes[name].kill()

    def stop_all(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {n} ---\n{p.tail(40)}" for n, p in self.processes.items())


@contextlib.contextmanager
def running_system(env: dict[str, str], log_dir: Path) -> Iterator[System]:
    system = System(env, log_dir)
    try:
        yield system
    except BaseException:
        print(system.logs())  # shown by pytest on failure: what each service last said
        raise
    finally:
        system.stop_all()
