"""The whole system on one machine: embedded PostgreSQL, broker and SMTP catcher unless
the environment points elsewhere, then the four services as child processes.

Every child is registered before it starts, so `stop()` can always find it; `stop()`
stops the services first (they flush their outbox relays and consumer offsets), then the
mail catcher, the broker and PostgreSQL last.

Once everything is ready, `supervise()` (called by `regia up` twice a second) restarts any
child that exited on its own, with the back-off of regia/local/supervision.py, and the rest keeps
running; after the embedded broker (re)starts, `BrokerIncarnations` has the services
republish what it may have lost.
"""

import asyncio
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from regia_shared.contracts import topics
from regia_shared.contracts.catalogue import (
    CONSOLE,
    EMBEDDED_KAFKA_PORT,
    EMBEDDED_PG_PORT,
    EMBEDDED_SMTP_PORT,
    NOTIFIER,
    SERVICES,
    WebApp,
    env_port,
    local_url,
)
from regia_shared.http.auth import hash_secret
from regia_shared.messaging import signing
from regia_shared.messaging.kafka import ensure_topics
from regia_shared.messaging.security import KafkaSecurity
from regia_shared.settings import ServiceSettings

from .embedded.broker import EmbeddedBroker
from .embedded.postgres import EmbeddedPostgres, ensure_database
from .embedded.process import ManagedProcess, ProcessFailed, port_open
from .interrupts import Interrupts
from .mailcatcher import MailCatcher
from .secrets_key import (
    ACCOUNT_VARIABLE,
    EVENT_VARIABLE,
    LINK_VARIABLE,
    SESSION_PUBLIC_VARIABLE,
    SESSION_SIGNING_VARIABLE,
    VARIABLE,
    event_signing_keys,
    notifier_secrets_key,
    preference_link_key,
    session_keys,
)
from .supervision import CRASH_LOOP, MAX_DELAY_S, Restarts, how_it_ended

# Only the partners service holds these: the seed that mints people's session tokens and
# the key of their TOTP secrets.
PARTNERS_ONLY = frozenset({SESSION_SIGNING_VARIABLE, ACCOUNT_VARIABLE})


class StartupError(RuntimeError):
    """Something is in the way of starting; the message says what to change."""


class ChildDied(RuntimeError):
    """A child died before the stack was ready: a start-up failure, not something to retry."""

    def __init__(self, name: str, process: ManagedProcess) -> None:
        code = process.proc.returncode if process.proc else None
        super().__init__(
            f"{name} exited unexpectedly ({how_it_ended(code)}); last lines of {process.log_path}:\n{process.tail()}"
        )


class BrokerIncarnations:
    """What the embedded broker may have lost, remembered across crashes and runs.

    The embedded broker keeps messages, topics and consumer offsets in memory: when it
    stops, by a crash or at the end of a `regia up`, every event it still held for a
    consumer that had not read it is gone. The services' outboxes keep what they published,
    with `published_at`. So every row published while a broker incarnation ran carries a
    `published_at` at or after that incarnation's start (taken from PostgreSQL's clock, the
    one `published_at` uses, just before the broker starts), and a row republished once
    carries its new `published_at`.

    Guarantee: after every start of the embedded broker (the first of a `regia up` too,
    since the previous run's broker is gone), each service is asked to republish
    (`POST /v1/ops/outbox/replay {"published_since": ...}`) every row published since the
    start of the oldest incarnation whose republication has not been confirmed by all four
    services, minus `MARGIN`. That instant is kept in `<data dir>/broker-lost-since` and
    moves forward only once all four answered, so a crash in between, of the broker, of a
    service or of `regia up` itself, only makes the next republication larger. Events are
    therefore published again, in id order, into the broker that is running now, unless
    they were pruned by the outbox retention (7 days). Consumers read a topic they find
    empty from the beginning (auto_offset_reset="earliest") and drop what their inbox has
    already applied, so republishing more than was lost changes nothing. With no file (a
    new data dir, or one from before this existed) everything the outboxes kept is
    republished. An external broker (REGIA_KAFKA_BOOTSTRAP_SERVERS) is not ours to watch:
    for it the manual runbook (`regia outbox replay`) stays.
    """

    MARGIN = timedelta(seconds=60)  # clocks and commit delays: replaying too much is harmless
    EVERYTHING = datetime(1970, 1, 1, tzinfo=UTC)

    def __init__(self, marker: Path) -> None:
        self.marker = marker
        self.pending: set[str] = set()  # services that still have to republish
        self.started_at: datetime | None = None  # the incarnation running now
        self.next_try = 0.0

    def lost_since(self) -> datetime:
        try:
            return datetime.fromisoformat(self.marker.read_text().strip())
        except (FileNotFoundError, ValueError):
            return self.EVERYTHING

    def broker_started(self, at: datetime, services: list[str]) -> None:
        self.started_at, self.pending, self.next_try = at, set(services), 0.0

    def republished(self, service: str) -> None:
        self.pending.discard(service)
        if not self.pending and self.started_at is not None:
            self.marker.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.marker.with_suffix(".tmp")
            tmp.write_text(self.started_at.isoformat() + "\n")
            tmp.replace(self.marker)  # atomic: a crash leaves the old instant or the new one


class LocalStack:
    def __init__(self, data_dir: Path, admin_token: str, interrupts: Interrupts, say: Callable[[str], None]) -> None:
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
        self.console_port = CONSOLE.port()
        self.console_url = local_url(self.console_port)
        self.postgres: EmbeddedPostgres | None = None
        self.broker: EmbeddedBroker | None = None
        self.mail: MailCatcher | None = None
        self.services: dict[str, ManagedProcess] = {}
        self.admin_token = admin_token  # only to ask the services to republish (never to a child)
        self.service_env = {
            "REGIA_ADMIN_TOKEN_SHA256": hash_secret(admin_token),
            VARIABLE: notifier_secrets_key(self.data_dir),
            LINK_VARIABLE: preference_link_key(self.data_dir),
            **session_keys(self.data_dir),
        }
        self.event_keys = event_signing_keys(self.data_dir)
        self.incarnations = BrokerIncarnations(self.data_dir / "broker-lost-since")
        self.started_at: dict[str, float] = {}  # monotonic time of each child's last start
        self.restarts: dict[str, Restarts] = {}
        self.restart_due: dict[str, float] = {}  # children waiting for their restart

    def check_ports(self) -> None:
        """Fail before starting anything if a port we would listen on is taken."""
        wanted = [(s.port_var, self.ports[s.name]) for s in SERVICES]
        wanted.append((CONSOLE.port_var, self.console_port))
        if not self.database_url:
            wanted.append((EMBEDDED_PG_PORT[0], self.pg_port))
        if not self.bootstrap:
            wanted.append((EMBEDDED_KAFKA_PORT[0], self.kafka_port))
        if not self.external_smtp:
            wanted.append((EMBEDDED_SMTP_PORT[0], self.smtp_port))
        taken = [f"{port} ({var})" for var, port in wanted if port_open(port)]
        if taken:
            raise StartupError(
                f"port(s) already in use: {', '.join(taken)}. Is another `regia up` "
                "running? Otherwise set those variables to free ports."
            )

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
            self.start_broker()
            self.bootstrap = self.broker.bootstrap_servers
            # Tansu refuses InitProducerId; the outbox and inbox keep effects exactly-once.
            self.service_env["REGIA_KAFKA_IDEMPOTENCE"] = "false"
            # Plain Kafka on loopback, whatever the shell says (ensure_topics).
            self.service_env["REGIA_KAFKA_SECURITY_PROTOCOL"] = "PLAINTEXT"
        if not self.external_smtp:
            self.mail = MailCatcher(self.mail_dir, self.smtp_port, self.say)
            self.mail.start()
            self.service_env |= {"REGIA_SMTP_HOST": "127.0.0.1", "REGIA_SMTP_PORT": str(self.smtp_port)}
        self.service_env |= {"REGIA_DATABASE_URL": self.database_url, "REGIA_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap}
        self.ensure_topics()

    def ensure_topics(self) -> None:
        assert self.bootstrap is not None
        settings = ServiceSettings(kafka_bootstrap_servers=self.bootstrap)
        if self.broker is not None:
            # The embedded broker has no TLS listener nor users: whatever REGIA_KAFKA_SECURITY_*
            # the shell holds is for an external broker, which is reached with it, as the
            # services will reach it.
            settings = settings.model_copy(update={"kafka_security_protocol": "PLAINTEXT"})
        security = KafkaSecurity.of(settings)
        asyncio.run(
            asyncio.wait_for(ensure_topics(self.bootstrap, topics.ALL, settings.kafka_partitions, security), 60)
        )

    def start_broker(self) -> None:
        """Start the embedded broker, empty; the services republish what it may have lost."""
        assert self.broker is not None
        at = self.database_now()  # before the start: whatever it will hold is published later
        with self.interrupts.deferred():
            self.broker.start()
        self.started_at["broker"] = time.monotonic()
        self.incarnations.broker_started(at, [s.name for s in SERVICES])

    def database_now(self) -> datetime:
        """PostgreSQL's clock, the one the outboxes' `published_at` comes from (this
        machine's, less a margin, when the database cannot be reached)."""

        async def now() -> datetime:
            conn = await asyncpg.connect(self.database_url, timeout=5)
            try:
                instant: datetime = await conn.fetchval("SELECT now()")  # asyncpg's results are untyped
                return instant
            finally:
                await conn.close()

        if self.database_url:
            try:
                return asyncio.run(asyncio.wait_for(now(), 10))
            except (OSError, asyncpg.PostgresError, TimeoutError):
                pass
        return datetime.now(UTC) - BrokerIncarnations.MARGIN

    def start_services(self) -> None:
        self.say("starting funding, objectives, partners and notifier (each migrates its schema)")
        for service in SERVICES:
            process = ManagedProcess(
                service.name,
                [sys.executable, "-m", service.module],
                self.logs / f"{service.name}.log",
                env={
                    **self.env_of(service),
                    service.port_var: str(self.ports[service.name]),
                    **self.links(service),
                    # Its own event key and those it verifies with, never the others'.
                    EVENT_VARIABLE: self.event_keys.only(signing.HELD_BY[service.name]).text(),
                },
            )
            self.services[service.name] = process
            with self.interrupts.deferred():
                process.start()  # no probe here: wait_ready() polls all four at once
            self.started_at[service.name] = time.monotonic()
        self.start_console()

    def env_of(self, service: WebApp) -> dict[str, str]:
        """The shared environment, less what only the partners service may hold: the seed
        that mints people's session tokens and the key of their TOTP secrets."""
        if service.name == "partners":
            # The console, on this machine, forwards each person's address: partners
            # believes it from loopback, so its per-address login throttle sees people.
            return dict(self.service_env) | {"REGIA_TRUSTED_PROXIES": "127.0.0.1/32,::1/128"}
        return {k: v for k, v in self.service_env.items() if k not in PARTNERS_ONLY}

    def links(self, service: WebApp) -> dict[str, str]:
        """The notifier's alerts link to the console's pages: to this one, on its port,
        unless REGIA_CONSOLE_URL says where people reach it."""
        if service is not NOTIFIER:
            return {}
        return {CONSOLE.url_var: os.environ.get(CONSOLE.url_var, "").strip() or self.console_url}

    def start_console(self) -> None:
        """The web console beside the services: it reads them over HTTP with each
        logged-in person's session token (which only that session holds) and the broker
        directly, so it gets their URLs and nothing of the admin token."""
        env = {
            SESSION_PUBLIC_VARIABLE: self.service_env[SESSION_PUBLIC_VARIABLE],
            "REGIA_KAFKA_BOOTSTRAP_SERVERS": self.service_env["REGIA_KAFKA_BOOTSTRAP_SERVERS"],
            # PLAINTEXT on the embedded broker; an external one keeps the shell's security.
            **{k: v for k, v in self.service_env.items() if k == "REGIA_KAFKA_SECURITY_PROTOCOL"},
            CONSOLE.port_var: str(self.console_port),
            **{s.url_var: self.urls[s.name] for s in SERVICES},
            # The topics' owners' keys, to show only genuine events on the live page (it
            # has no producer, and writes nothing: regia_console.feed).
            EVENT_VARIABLE: self.event_keys.text(),
        }
        process = ManagedProcess(
            CONSOLE.name, [sys.executable, "-m", CONSOLE.module], self.logs / "console.log", env=env
        )
        self.services[CONSOLE.name] = process  # registered first, so stop() always finds it
        with self.interrupts.deferred():
            process.start()
        self.started_at["console"] = time.monotonic()

    def wait_ready(self, timeout: float = 180.0) -> None:
        pending = {**self.urls, "console": self.console_url} if "console" in self.services else dict(self.urls)
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as http:
            while pending:
                self.raise_if_a_child_died()
                for name, url in list(pending.items()):
                    try:
                        # Its own name: another process on the port (the child then fails to
                        # bind and dies) must not pass for it.
                        r = http.get(f"{url}/health/ready")
                        if r.status_code == 200 and r.json().get("service") == name:
                            del pending[name]
                    except (httpx.HTTPError, ValueError):
                        pass
                if pending and time.monotonic() > deadline:
                    names = ", ".join(pending)
                    raise StartupError(
                        f"not ready after {timeout:.0f}s: {names}; see "
                        + ", ".join(str(self.logs / f"{n}.log") for n in pending)
                    )
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

    # Once ready: restart what dies, keep the rest running.

    def supervise(self) -> None:
        """One round: notice children that died, restart those whose wait is over, and
        have the services republish what a restarted broker lost. Never raises for a child."""
        now = time.monotonic()
        for name, process in self.children().items():
            if name not in self.restart_due and process.proc is not None and not process.alive():
                self.died(name, how_it_ended(process.proc.returncode), process.log_path, process.tail)
        if self.mail is not None and "mail" not in self.restart_due and not self.mail.alive():
            self.died("mail", "its thread stopped", self.logs / "regia-up.log", lambda: "")
        # Infrastructure first: a service restarted before PostgreSQL would only die again.
        first = {"postgres": 0, "broker": 1, "mail": 2}
        for name in sorted(self.restart_due, key=lambda n: first.get(n, 3)):
            if self.restart_due[name] <= now:
                self.restart(name)
        self.republish()

    def died(self, name: str, how: str, log_path: Path, tail: Callable[[], str]) -> None:
        history = self.restarts.setdefault(name, Restarts())
        uptime = time.monotonic() - self.started_at.get(name, 0.0)
        delay = history.died(uptime)
        self.restart_due[name] = time.monotonic() + delay
        lost = " (it kept messages in memory: the services will republish them)" if name == "broker" else ""
        looping = f", crash-looping: {history.quick_deaths} quick deaths in a row" if history.crash_looping else ""
        self.report(
            f"{name} crashed ({how}) after {uptime:.0f}s up; log {log_path}; "
            f"restarting it in {delay:.0f}s{looping}{lost}; the rest keeps running"
        )
        if history.quick_deaths == CRASH_LOOP:  # the log's end once, not at every retry
            self.report(
                f"warning: {name} dies within seconds of every start; retrying at a slower "
                f"pace (up to every {MAX_DELAY_S:.0f}s) until it stays up, or Ctrl-C. "
                f"Last lines of {log_path}:\n{tail()}"
            )

    def restart(self, name: str) -> None:
        try:
            if name == "postgres":
                assert self.postgres is not None
                with self.interrupts.deferred():
                    self.postgres.start()
            elif name == "broker":
                self.start_broker()
            elif name == "mail":
                assert self.mail is not None
                self.mail = MailCatcher(self.mail_dir, self.smtp_port, self.say).start()
            else:
                with self.interrupts.deferred():
                    self.services[name].start()
        except (ProcessFailed, OSError, RuntimeError, TimeoutError) as exc:  # not up: wait and retry
            self.started_at[name] = time.monotonic()
            self.restart_due.pop(name)
            log = self.logs / ("regia-up.log" if name == "mail" else f"{name}.log")
            self.died(name, f"restart failed: {exc}", log, lambda: "")
            return
        self.started_at[name] = time.monotonic()
        del self.restart_due[name]
        self.report(f"{name} restarted")
        if name == "broker":
            try:  # the services' replay re-creates their own topics anyway: this is a head start
                self.ensure_topics()
            except Exception as exc:
                self.report(
                    f"warning: creating the topics on the new broker failed ({exc}); "
                    "the services create theirs when they republish"
                )

    def republish(self) -> None:
        """Ask each service still pending to republish what the broker may have lost (see
        BrokerIncarnations); one that does not answer yet is asked again a little later."""
        pending = self.incarnations
        if not pending.pending or time.monotonic() < pending.next_try:
            return
        since = pending.lost_since() - BrokerIncarnations.MARGIN
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {self.admin_token}"}) as http:
            for name in sorted(pending.pending):
                try:
                    answer = http.post(
                        f"{self.urls[name]}/v1/ops/outbox/replay", json={"published_since": since.isoformat()}
                    )
                except httpx.HTTPError:
                    continue  # restarting, or not ready yet
                if answer.status_code != 200:  # not a passing state: say it, ask less often
                    self.report(
                        f"warning: {name} refused to republish its outbox "
                        f"(HTTP {answer.status_code}: {answer.text[:200]}); asking again in 30s"
                    )
                    pending.next_try = time.monotonic() + 30.0
                    return
                requeued = answer.json()["requeued"]
                pending.republished(name)
                if requeued:
                    when = (
                        "ever (all the outbox keeps)"
                        if since < BrokerIncarnations.EVERYTHING + timedelta(days=1)
                        else f"since {since:%Y-%m-%d %H:%M:%S%z}"
                    )
                    self.report(
                        f"{name}: {requeued} events published {when} queued to publish again into the new broker"
                    )
        pending.next_try = time.monotonic() + 2.0

    def report(self, line: str) -> None:
        """Printed, and kept in <data dir>/logs/regia-up.log with the time."""
        self.say(line)
        try:
            self.logs.mkdir(parents=True, exist_ok=True)
            with open(self.logs / "regia-up.log", "a") as log:
                log.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} {line}\n")
        except OSError:
            pass

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
