"""`regia up --demo` in its own process on free ports (the console's too), as an operator
runs it, with a known admin token; stopped with everything below it at the end."""

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from regia.embedded.process import free_port

SERVICES = ("funding", "objectives", "partners", "notifier", "console")
RUNNING = "Regia is running. Ctrl-C stops everything."


class RegiaUpDemo:
    def __init__(self, data_dir: Path, admin_token: str) -> None:
        self.ports = {name: free_port() for name in SERVICES}
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGIA_")}
        env |= {f"REGIA_{name.upper()}_PORT": str(port) for name, port in self.ports.items()}
        env |= {"REGIA_EMBEDDED_PG_PORT": str(free_port()), "REGIA_EMBEDDED_KAFKA_PORT": str(free_port()),
                "REGIA_EMBEDDED_SMTP_PORT": str(free_port()), "REGIA_KAFKA_PARTITIONS": "3",
                "REGIA_KAFKA_SESSION_TIMEOUT_MS": "6000", "REGIA_OUTBOX_POLL_INTERVAL_S": "0.5",
                "REGIA_ADMIN_TOKEN": admin_token}
        argv = [sys.executable, "-m", "regia", "up", "--demo", "--data-dir", str(data_dir)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=env, cwd=data_dir.parent)
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._new.put(line)
        self._new.put(None)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            try:
                if self._new.get(timeout=max(0.0, deadline - time.monotonic())) is None:
                    break
            except queue.Empty:
                break
        assert text in self.output, f"{text!r} never printed; output so far:\n{self.output}"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def demo_key(self) -> str:
        return self.output.split("export REGIA_DEMO_KEY='", 1)[1].split("'", 1)[0]

    def stop(self) -> None:
        """SIGINT as Ctrl-C; then SIGKILL to anything still below it (a failed test must
        not leave a PostgreSQL or a broker running)."""
        children = descendants(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent and child not in found]
        found += children
        frontier += children
    return found
