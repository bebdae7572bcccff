"""The whole system on one machine: embedded PostgreSQL, broker and SMTP catcher unless
the environment points elsewhere, then the four services as child processes.

Every child is registered before it starts, so `stop()` can always find it; `stop()`
stops the services first (they flush their outbox relays and consumer offsets), then the
mail catcher, the broker and PostgreSQL last.
"""

import asyncio
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from regia.embedded.broker import EmbeddedBroker
from regia.embedded.postgres import EmbeddedPostgres, ensure_database
from regia.embedded.process import ManagedProcess, port_open
from regia_shared import topics
from regia_shared.auth import hash_secret
from regia_shared.kafka import ensure_topics
from regia_shared.settings import ServiceSettings

from .catalogue import EMBEDDED_KAFKA_PORT, EMBEDDED_PG_PORT, EMBEDDED_SMTP_PORT, SERVICES, env_port, local_url
from .interrupts import Interrupts
from .mailcatcher import MailCatcher
from .secrets_key import VARIABLE, notifier_secrets_key


CONSOLE_PORT = ("REGIA_CONSOLE_PORT", 8100)  # the web console's (regia.console)


class StartupError(RuntimeError):
    """Something is in the way of starting; the message says what to change."""


class ChildDied(RuntimeError):
    def __init__(self, name: str, process: ManagedProcess) -> None:
        code = process.proc.returncode if process.proc else None
        super().__init__(f"{name} exited unexpectedly (exit status {code}); "
                         f"last lines of {process.log_path}:\n{process.tail()}")


class LocalStack:
    def __init__(self, data_dir: Path, admin_token: str, interrupts: Interrupts,
                 say: Callable[[str], None]) -> None:
        self.data_dir = data_dir.resolve()
        self.logs = self.data_dir / "logs"
        self.mail_dir = self.data_dir / "mail"
        self.interrupts, self.say = interrupts, say
        env = os.environ
        self.database_url = env.get("REGIA_DATABASE_URL", "").strip() or None
        self.bootstrap = env.get("REGIA_KAFKA_BOOTSTRAP_SERVERS", "").strip() or None
        self.external_smtp = env.get("REGIA_SMTP_HOST", "").strip() or None
        self.pg_port = env_port(*EMBEDDED_PG_PORT)
        self.kafka_port = env_port(*EMBEDDED_KAFKA_PORT)
        self.smtp_port = env_port(*EMBEDDED_SMTP_PORT)
        self.ports = {s.name: s.port() for s in SERVICES}
        self.urls = {name: local_url(port) for name, port in self.ports.items()}
        self.console_port = env_port(*CONSOLE_PORT)
        self.console_url = local_url(self.console_port)
        self.postgres: EmbeddedPostgres | None = None
        self.broker: EmbeddedBroker | None = None
        self.mail: MailCatcher | None = None
        self.services: dict[str, ManagedProcess] = {}
        self.service_env = {"REGIA_ADMIN_TOKEN_SHA256": hash_secret(admin_token),
                            VARIABLE: notifier_secrets_key(self.data_dir)}

    def check_ports(self) -> None:
        """Fail before starting anything if a port we would listen on is taken."""
        wanted = [(f"REGIA_{s.name.upper()}_PORT", self.ports[s.name]) for s in SERVICES]
        wanted.append((CONSOLE_PORT[0], self.console_port))
        if not self.database_url:
            wanted.append((EMBEDDED_PG_PORT[0], self.pg_port))
        if not self.bootstrap:
            wanted.append((EMBEDDED_KAFKA_PORT[0], self.kafka_port))
        if not self.external_smtp:
            wanted.append((EMBEDDED_SMTP_PORT[0], self.smtp_port))
        taken = [f"{port} ({var})" for var, port in wanted if port_open(port)]
        if taken:
            raise StartupError(f"port(s) already in use: {', '.join(taken)}. Is another `regia up` "
                               "running? Otherwise set those variables to free ports.")

    def start_infrastructure(self) -> None:
        if not self.database_url:
            self.say(f"starting PostgreSQL (embedded) on 127.0.0.1:{self.pg_port}, data in {self.data_dir / 'pg'}")
            self.postgres = EmbeddedPostgres(self.data_dir / "pg", self.pg_port, self.logs)
            with self.interrupts.deferred():
                self.postgres.start()
            asyncio.run(ensure_database(self.postgres.dsn("postgres"), "regia"))
            self.database_url = self.postgres.dsn("regia")
        if not self.bootstrap:
            self.say(f"starting the Kafka-compatible broker (embedded Tansu) on 127.0.0.1:{self.kafka_port}")
            self.broker = EmbeddedBroker(self.kafka_port, self.logs)
            with self.interrupts.deferred():
                self.broker.start()
            self.bootstrap = self.broker.bootstrap_servers
            # Tansu refuses InitProducerId; the outbox and inbox keep effects exactly-once.
            self.service_env["REGIA_KAFKA_IDEMPOTENCE"] = "false"
        if not self.external_smtp:
            self.mail = MailCatcher(self.mail_dir, self.smtp_port, self.say)
            self.mail.start()
            self.service_env |= {"REGIA_SMTP_HOST": "127.0.0.1", "REGIA_SMTP_PORT": str(self.smtp_port)}
        self.service_env |= {"REGIA_DATABASE_URL": self.database_url,
                             "REGIA_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap}
        partitions = ServiceSettings(kafka_bootstrap_servers=self.bootstrap).kafka_partitions
        asyncio.run(asyncio.wait_for(ensure_topics(self.bootstrap, topics.ALL, partitions), 60))

    def start_services(self) -> None:
        self.say("starting funding, objectives, partners and notifier (each migrates its schema)")
        for service in SERVICES:
            process = ManagedProcess(
                service.name, [sys.executable, "-m", service.module], self.logs / f"{service.name}.log",
                env={**self.service_env, service.port_var: str(self.ports[service.name])},
            )
            self.services[service.name] = process
            with self.interrupts.deferred():
                process.start()  # no probe here: wait_ready() polls all four at once
        self.start_console()

    def start_console(self) -> None:
        """The web console beside the services: it reads them over HTTP (with the token a
        logged-in administrator typed, which only that session holds) and the broker
        directly, so it gets their URLs and the token's hash, never the token."""
        env = {"REGIA_ADMIN_TOKEN_SHA256": self.service_env["REGIA_ADMIN_TOKEN_SHA256"],
               "REGIA_KAFKA_BOOTSTRAP_SERVERS": self.service_env["REGIA_KAFKA_BOOTSTRAP_SERVERS"],
               CONSOLE_PORT[0]: str(self.console_port),
               **{f"REGIA_{name.upper()}_URL": url for name, url in self.urls.items()}}
        process = ManagedProcess("console", [sys.executable, "-m", "regia.console"],
                                 self.logs / "console.log", env=env)
        self.services["console"] = process  # registered first, so stop() always finds it
        with self.interrupts.deferred():
            process.start()

    def wait_ready(self, timeout: float = 180.0) -> None:
        pending = {**self.urls, "console": self.console_url} if "console" in self.services else dict(self.urls)
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as http:
            while pending:
                self.raise_if_a_child_died()
                for name, url in list(pending.items()):
                    try:
                        if http.get(f"{url}/health/ready").status_code == 200:
                            del pending[name]
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    names = ", ".join(pending)
                    raise StartupError(f"not ready after {timeout:.0f}s: {names}; see "
                                       + ", ".join(str(self.logs / f"{n}.log") for n in pending))
                time.sleep(0.2)

    def children(self) -> dict[str, ManagedProcess]:
        found = dict(self.services)
        for name, owner in (("postgres", self.postgres), ("broker", self.broker)):
            if owner is not None and owner.process is not None:
                found[name] = owner.process
        return found

    def raise_if_a_child_died(self) -> None:
        for name, process in self.children().items():
            if process.proc is not None and not process.alive():
                raise ChildDied(name, process)

    def stop(self) -> None:
        running = [p for p in self.services.values() if p.alive()]
        if running:  # in parallel: each takes a moment to drain its consumers and relay
            with ThreadPoolExecutor(len(running)) as pool:
                list(pool.map(lambda p: p.stop(), running))
        for part in (self.mail, self.broker, self.postgres):
            if part is not None:
                try:
                    part.stop()
                except Exception as exc:  # keep going: what is left must still be stopped
                    self.say(f"error while stopping {type(part).__name__}: {exc}")
