"""Ctrl-C and SIGTERM for `regia up`: turn them into one exception, at safe points only.

The children run in their own sessions, so a terminal's Ctrl-C reaches `regia up` alone,
which then stops them in order. The signal is raised as `Shutdown` wherever the main thread
is, except inside `deferred()`: there a child is being started, and the object that will
own its pid is not assigned yet, so an exception would orphan it. The signal is recorded
and raised when the block ends. While everything is being stopped, further signals are
ignored, so a second Ctrl-C cannot abandon PostgreSQL half-way through its shutdown.
"""

import contextlib
import signal
from collections.abc import Iterator

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Shutdown(BaseException):
    """An operator asked to stop (BaseException, like KeyboardInterrupt: not an error)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Interrupts:
    def __init__(self) -> None:
        self.requested: int | None = None
        self._deferring = 0

    def install(self) -> None:
        for signum in HANDLED:
            signal.signal(signum, self._handle)

    def ignore_from_now_on(self) -> None:
        for signum in HANDLED:
            signal.signal(signum, signal.SIG_IGN)

    def _handle(self, signum: int, _frame: object) -> None:
        self.requested = signum
        if not self._deferring:
            raise Shutdown(signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if self.requested is not None and not self._deferring:
            raise Shutdown(self.requested)
