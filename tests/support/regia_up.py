"""`python -m regia up` in its own process on free ports, as an operator runs it, for the
tests of `regia up` itself and of the console on the demo."""

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from regia.local.embedded.process import free_port
from regia_shared.contracts.catalogue import CONSOLE
from regia_shared.contracts.catalogue import SERVICE_NAMES as SERVICES

RUNNING = "Regia is running. Ctrl-C stops everything."


class RegiaUp:
    """`python -m regia up` in its own process, its output collected line by line."""

    def __init__(
        self, data_dir: Path, *, demo: bool = False, admin_token: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.ports = {name: free_port() for name in (*SERVICES, CONSOLE.name)}
        given = env or {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGIA_")}
        env |= {f"REGIA_{name.upper()}_PORT": str(port) for name, port in self.ports.items()}
        self.pg_port = free_port()
        env |= {
            "REGIA_EMBEDDED_PG_PORT": str(self.pg_port),
            "REGIA_EMBEDDED_KAFKA_PORT": str(free_port()),
            "REGIA_EMBEDDED_SMTP_PORT": str(free_port()),
            "REGIA_KAFKA_PARTITIONS": "3",
            "REGIA_KAFKA_SESSION_TIMEOUT_MS": "6000",
            "REGIA_OUTBOX_POLL_INTERVAL_S": "0.5",
            # People's passwords at a test's argon2id cost (tests/support/services.py says why).
            "REGIA_ARGON2_TIME_COST": "1",
            "REGIA_ARGON2_MEMORY_KIB": "8192",
            "REGIA_ARGON2_PARALLELISM": "1",
        }
        if admin_token:
            env["REGIA_ADMIN_TOKEN"] = admin_token
        env |= given
        argv = [sys.executable, "-m", "regia", "up", "--data-dir", str(data_dir)] + (["--demo"] if demo else [])
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=data_dir.parent
        )
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
                    break  # the process closed its output
            except queue.Empty:
                break
        assert text in self.output, f"{text!r} never printed; output so far:\n{self.output}"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def stop(self, signum: int = signal.SIGINT, timeout: float = 30.0) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def demo_key(self) -> str:
        return self.output.split("export REGIA_DEMO_KEY='", 1)[1].split("'", 1)[0]

    def stop_everything(self) -> None:
        """Ctrl-C, then SIGKILL to anything still below it: a failed test must not leave a
        PostgreSQL or a broker running."""
        children = descendants(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def descendants(pid: int) -> dict[int, str]:
    """Every live process below `pid`, with its command line (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError):
                continue
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found[child] = command_line(child)
                frontier.append(child)
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
