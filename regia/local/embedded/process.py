"""A child process with a log file, a readiness probe and a clean stop.

Hand-written because the supervisors on PyPI (supervisor, honcho, circus) either daemonise
on their own terms or cannot wait on a readiness probe; this is the forty lines `regia up`
and the end-to-end tests need to start, watch and stop PostgreSQL, the broker and the four
services identically.
"""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .private import OWNER_ONLY_UMASK, open_private, private_dir


class ProcessFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


class ManagedProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        ready: Callable[[], bool] | None = None,
        stop_signal: int = signal.SIGTERM,
        user: str | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name, self.argv, self.log_path = name, list(argv), log_path
        self.env, self.ready, self.stop_signal, self.user, self.cwd = env, ready, stop_signal, user, cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> "ManagedProcess":
        # Logs carry names, addresses and ids: the folder and file are the owner's only,
        # and so is whatever the child creates (umask 077).
        private_dir(self.log_path.parent)
        log = open_private(self.log_path)
        self.proc = subprocess.Popen(
            self.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(self.env or {})},
            user=self.user,
            cwd=self.cwd,
            start_new_session=True,  # Ctrl-C in the terminal reaches us, and we stop children in order
            umask=OWNER_ONLY_UMASK,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while self.ready is not None and not self.ready():
            if self.proc.poll() is not None:
                raise ProcessFailed(
                    f"{self.name} exited with {self.proc.returncode}; see {self.log_path}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ProcessFailed(f"{self.name} not ready after {timeout:.0f}s; see {self.log_path}:\n{self.tail()}")
            time.sleep(0.1)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: the crash a fault test wants, with no chance to clean up."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 20.0) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.send_signal(self.stop_signal)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""
