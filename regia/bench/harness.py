"""The pieces a benchmark run stands on: embedded PostgreSQL and Tansu in a temporary
directory (as the tests start them), Regia's services as OS processes, an SMTP catcher,
and a sampler of each process's resident memory."""

import asyncio
import contextlib
import hashlib
import secrets
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from regia.local.embedded.broker import EmbeddedBroker
from regia.local.embedded.postgres import EmbeddedPostgres, ensure_database
from regia.local.embedded.process import ManagedProcess, free_port
from regia_shared.contracts.catalogue import SERVICES
from regia_shared.messaging import signing
from regia_shared.writes import reason_header

from . import statements
from .cpu import CpuMeter
from .mail_sink import MailSink

BENCH_REASON = "Benchmark run (regia bench): synthetic data"
PORT_VARS = {s.name: s.port_var for s in SERVICES}


@dataclass
class Service:
    name: str  # e.g. "objectives" or "objectives-2" for a second replica
    port: int
    process: ManagedProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class RssSampler:
    """Samples VmRSS of named processes from /proc every `interval` seconds, each sample
    tagged with the phase the benchmark is in."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.pids: dict[str, int] = {}
        self.phase = "setup"
        self.samples: dict[str, list[tuple[str, float]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for name, pid in list(self.pids.items()):
                mib = rss_mib(pid)
                if mib is not None:
                    self.samples.setdefault(name, []).append((self.phase, mib))


def started(process: ManagedProcess | None) -> ManagedProcess:
    """The process of a part whose start() returned (it raises rather than leave none)."""
    assert process is not None, "start() it first"
    return process


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Stack:
    root: Path
    partitions: int
    keep: bool = False
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    dsn: str = ""
    admin_token: str = field(default_factory=lambda: secrets.token_hex(24))
    # One set for the whole stack: every service must verify what the others signed.
    event_keys: str = field(default_factory=lambda: signing.generate("bench").text())
    services: dict[str, Service] = field(default_factory=dict)
    mail: MailSink | None = None
    smtp_port: int = 0
    rss: RssSampler = field(default_factory=RssSampler)
    cpu: CpuMeter = field(default_factory=CpuMeter)
    # `regia bench --statements`: PostgreSQL counts its statements (regia.bench.statements)
    count_statements: bool = False

    @property
    def bootstrap(self) -> str:
        assert self.broker is not None
        return self.broker.bootstrap_servers

    @property
    def mail_sink(self) -> MailSink:
        assert self.mail is not None  # started by start_infra, before any benchmark runs
        return self.mail

    @property
    def admin_headers(self) -> dict[str, str]:
        # Every change of money, plans, roles or rules says why (docs/api.md).
        return {"Authorization": f"Bearer {self.admin_token}", **reason_header(BENCH_REASON)}

    def env(self) -> dict[str, str]:
        return {
            "REGIA_DATABASE_URL": self.dsn,
            "REGIA_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "REGIA_KAFKA_IDEMPOTENCE": "false",  # Tansu, as `regia up` and the tests run it
            "REGIA_KAFKA_PARTITIONS": str(self.partitions),
            "REGIA_KAFKA_SESSION_TIMEOUT_MS": "3000",
            "REGIA_ADMIN_TOKEN_SHA256": hashlib.sha256(self.admin_token.encode()).hexdigest(),
            "REGIA_LOG_LEVEL": "WARNING",
            "REGIA_NOTIFIER_SECRETS_KEY": Fernet.generate_key().decode(),
            # Every e-mail signs its links, as in production: part of what is measured.
            "REGIA_PREFERENCE_LINK_KEY": secrets.token_urlsafe(32),
            # Every event signed and verified, as in production: part of what is measured.
            "REGIA_EVENT_SIGNING_KEYS": self.event_keys,
            "REGIA_SMTP_HOST": "127.0.0.1",
            "REGIA_SMTP_PORT": str(self.smtp_port),
            # The grouping window is a policy (30 s of quiet by default), not a delay of the
            # system: the benchmark measures the system, so each e-mail goes at once with
            # whatever alerts were queued since the last.
            "REGIA_NOTIFIER_GROUP_WAIT_S": "0",
            # The benchmark's one institution key sends far more than a real one may.
            "REGIA_FUNDING_RATE_PER_S": "1000000",
            "REGIA_FUNDING_RATE_BURST": "1000000",
        }

    async def start_infra(self) -> None:
        self.postgres = EmbeddedPostgres(
            self.root / "pg", free_port(), self.root / "logs", statement_stats=self.count_statements
        )
        await asyncio.to_thread(self.postgres.start)
        await ensure_database(self.postgres.dsn("postgres"), "regia_bench")
        self.dsn = self.postgres.dsn("regia_bench")
        if self.count_statements:
            await statements.prepare(self.dsn)
        self.broker = await asyncio.to_thread(EmbeddedBroker(free_port(), self.root / "logs").start)
        self.smtp_port = free_port()
        self.mail = MailSink(self.smtp_port, self.root).start()
        postgres_pid, broker_pid = started(self.postgres.process).pid, started(self.broker.process).pid
        self.rss.pids["postgres"] = postgres_pid
        self.rss.pids["broker"] = broker_pid
        self.cpu.watch("postgres", postgres_pid, with_children=True)
        self.cpu.watch("broker", broker_pid)
        self.cpu.watch("smtp sink", self.mail.process.pid)
        self.rss.start()

    async def start_services(self, names: list[str]) -> None:
        """Start services (a name like "objectives-2" is a second replica) in parallel."""
        env = self.env()

        def one(name: str) -> Service:
            kind = name.split("-")[0]
            port = free_port()

            def ready() -> bool:
                try:  # this service, not another process that took the port
                    r = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1.0)
                    return r.status_code == 200 and r.json().get("service") == kind
                except (httpx.HTTPError, ValueError):
                    return False

            process = ManagedProcess(
                name,
                [sys.executable, "-m", f"regia_{kind}"],
                self.root / "logs" / f"{name}.log",
                env={**env, PORT_VARS[kind]: str(port)},
                ready=ready,
            )
            process.start(timeout=120)
            return Service(name, port, process)

        # Migrations of one schema must not race: the first of each kind starts alone.
        firsts = [n for n in names if "-" not in n]
        for service in await asyncio.gather(*(asyncio.to_thread(one, n) for n in firsts)):
            self.services[service.name] = service
        rest = [n for n in names if "-" in n]
        for service in await asyncio.gather(*(asyncio.to_thread(one, n) for n in rest)):
            self.services[service.name] = service
        for name, service in self.services.items():
            self.rss.pids[name] = service.process.pid
            self.cpu.watch(name, service.process.pid)

    def logs(self, lines: int = 20) -> str:
        return "\n".join(f"--- {n} ---\n{s.process.tail(lines)}" for n, s in self.services.items())

    def stop(self) -> None:
        self.rss.stop()
        for service in reversed(list(self.services.values())):
            with contextlib.suppress(Exception):
                service.process.stop()
        if self.mail is not None:
            with contextlib.suppress(Exception):
                self.mail.stop()
        for part in (self.broker, self.postgres):
            if part is not None:
                with contextlib.suppress(Exception):
                    part.stop()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def temp_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="regia-bench-"))
