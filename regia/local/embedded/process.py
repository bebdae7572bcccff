"""A child process with a log file, a readiness probe and a clean stop.

Hand-written because the supervisors on PyPI (supervisor, honcho, circus) either daemonise
on their own terms or cannot wait on a readiness probe; this is the forty lines `regia up`
and the end-to-end tests need to start, watch and stop PostgreSQL, the broker and the four
services identically.
"""

import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .private import OWNER_ONLY_UMASK, open_private, private_dir


class ProcessFailed(RuntimeError):
    pass


# The operating system's randomness, not the `random` module's: test runners seed that
# module the same way in every worker, which would have them all try the same ports.
_PORTS = random.SystemRandom()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


_GIVEN: set[int] = set()  # the ports this process handed out


def free_port() -> int:
    """A loopback port free now, chosen *outside* the kernel's ephemeral range.

    Why not bind to port 0: the port the kernel hands out comes from the ephemeral range,
    the same range it draws the source port of every outgoing connection from. Between
    this function closing its probe socket and the server binding the port, any client on
    the machine (a test worker's Kafka or PostgreSQL connection) may take it as its source
    port, and the server's bind fails with EADDRINUSE; CI saw exactly that. Ports below the
    ephemeral range are never handed out to clients, so only another server could take one,
    and the random pick (from the operating system's randomness: test workers seed the
    `random` module alike) makes two servers choosing the same port unlikely.
    """
    ephemeral_low, _ = _ephemeral_range()
    low, high = 20000, max(20001, ephemeral_low - 1)
    if high - low < 1000:  # an unusual kernel setting: fall back to the kernel's choice
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    if len(_GIVEN) > (high - low) // 2:  # a long-lived process: forget the oldest picks
        _GIVEN.clear()
    for _ in range(200):
        port = _PORTS.randint(low, high)
        if port in _GIVEN:
            # Handed out already and perhaps not bound yet: a caller that asks for several
            # ports before starting anything (a stack's broker, then its services) must get
            # several ports. CI saw a broker and a service given the same one.
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            _GIVEN.add(port)
            return port
    raise ProcessFailed(f"no free loopback port between {low} and {high}")


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
