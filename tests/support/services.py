"""Running a service for a test: in-process on a real TCP port (integration tests) or as
its own OS process (end-to-end and fault tests)."""

import asyncio
import contextlib
import hashlib
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from regia.local.embedded.process import ManagedProcess, free_port, port_open
from regia_shared.contracts.catalogue import SERVICES
from regia_shared.http.serving import uvicorn_options
from regia_shared.messaging.signing import EventKeys, by_service

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
# Every write that changes money, plans, roles or rules says why (X-Regia-Reason, percent-
# encoded UTF-8): the tests' administrator and keys send one with every request, so a test
# of something else need not; the reason's own tests send theirs or none.
TEST_REASON = "Prova automatica: verifica di integrazione"
REASON_HEADERS = {"X-Regia-Reason": "Prova%20automatica%3A%20verifica%20di%20integrazione"}
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}", **REASON_HEADERS}
PREFERENCE_LINK_KEY = "test-preference-link-key-0123456789abcdef"
# Fixed test keys of people's sessions: the partners service signs with the seed, every
# service verifies with the public key (regia_shared.http.identity).
SESSION_SIGNING_KEYS = "test1:o7yxd_SgDGwJEaRfy0CINNhwriGMs8-8lydAypDDFj8"
SESSION_PUBLIC_KEYS = "test1:DqTQY_RFVnWhR4R9W62mfybLqFjshuLaWndqDYb5nlI"
ACCOUNT_SECRETS_KEY = "eYKDFRMQqJ8PM-XCx3elm8UgBRPCPXTmbbINIoitwV0="

# Fixed test keys signing each service's events: every test service holds all four (its
# own to sign, the others' to verify), and tests/support/kafka.py signs what a test
# publishes on a service's topic with that service's key, standing in for it.
EVENT_KEYS: EventKeys = by_service(
    {s.name: [(f"{s.name}-test-1", f"test-event-key-of-{s.name}-0123456789abcdef")] for s in SERVICES}
)

SERVICE_PORT_VARS = {s.name: s.port_var for s in SERVICES}


def base_env(dsn: str, bootstrap: str) -> dict[str, str]:
    """The environment every service of a test system shares."""
    return {
        "REGIA_DATABASE_URL": dsn,
        "REGIA_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "REGIA_KAFKA_IDEMPOTENCE": "false",
        "REGIA_KAFKA_PARTITIONS": "3",
        # Tansu holds a JoinGroup for half the session timeout, rounded up to whole seconds,
        # and every service start waits for its groups' first assignment: 2 s makes that one
        # second per start instead of two (heartbeats every 666 ms, see Polling).
        "REGIA_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "REGIA_ADMIN_TOKEN_SHA256": hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest(),
        "REGIA_OUTBOX_POLL_INTERVAL_S": "0.5",
        "REGIA_LOG_LEVEL": "INFO",
        # Tests send refused anonymous requests by the hundred on purpose (every write route's
        # 401): the per-address throttle has its own test, which sets its own limits.
        "REGIA_ANONYMOUS_BURST": "1000000",
        # One second of quiet closes a person's grouping window: long enough to gather the
        # alerts of one cause (they come within milliseconds, from two topics), short
        # enough not to slow every test that waits for a mail (30 s in production).
        "REGIA_NOTIFIER_GROUP_WAIT_S": "1",
        # A fixed test key: it encrypts the webhook secrets of a throw-away database.
        "REGIA_NOTIFIER_SECRETS_KEY": "q7dZpB3cK3yW0y3lX9Gm0m5dJc2m3rXW6b7Yd8sQy1E=",
        # Tests' webhook receivers listen on this machine, over plain http: a network the
        # test administrator allows (production allows none: https to public addresses only).
        "REGIA_NOTIFIER_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
        # A fixed test key, the notifier's and the partners service's: it signs and verifies
        # the unsubscribe and preferences links of e-mails.
        "REGIA_PREFERENCE_LINK_KEY": PREFERENCE_LINK_KEY,
        "REGIA_SESSION_SIGNING_KEYS": SESSION_SIGNING_KEYS,
        "REGIA_SESSION_PUBLIC_KEYS": SESSION_PUBLIC_KEYS,
        "REGIA_ACCOUNT_SECRETS_KEY": ACCOUNT_SECRETS_KEY,
        # People's passwords are hashed with argon2id at a test's cost (8 MiB, one pass:
        # about 5 ms against 200 ms of CPU): the suite hashes hundreds of them. Production
        # keeps the default (tests/unit/test_password_hashing.py checks it).
        "REGIA_ARGON2_TIME_COST": "1",
        "REGIA_ARGON2_MEMORY_KIB": "8192",
        "REGIA_ARGON2_PARALLELISM": "1",
        # Every service signs what it publishes and verifies what it consumes, as in production.
        "REGIA_EVENT_SIGNING_KEYS": EVENT_KEYS.text(),
    }


@dataclass
class RunningService:
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10.0, **kwargs)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def in_process(name: str, create_app: Callable[[], FastAPI]) -> AsyncIterator[RunningService]:
    """Serve the app with uvicorn on a free port inside the test's event loop."""
    for attempt in range(1, BIND_TRIES + 1):
        port = free_port()
        try:
            server, task = await _serve(name, create_app(), port)
            break
        except PortTaken:
            # Another server took the port between the pick and the bind: free_port can only
            # make that unlikely (CI saw it once in 1,502 tests). A fresh app on another port.
            if attempt == BIND_TRIES:
                raise
    try:
        yield RunningService(name, port)
    finally:
        server.should_exit = True
        await task


# How many ports a test service tries before its start fails: in process (here) or as an
# OS process (support.system), another server may take the port picked before the bind.
BIND_TRIES = 3


class PortTaken(Exception):
    """uvicorn could not bind the port: something else listens there."""


async def _serve(name: str, app: FastAPI, port: int) -> tuple[uvicorn.Server, asyncio.Task]:
    """Serve `app` on `port` until told to stop; returns once it is listening."""
    # A Regia service is served as its __main__ serves it; any other app (a test's stand-in
    # for a service) with uvicorn's defaults.
    settings = getattr(app.state, "settings", None)
    options = (
        uvicorn_options(settings, port, host="127.0.0.1")
        if settings is not None
        else {"host": "127.0.0.1", "port": port, "log_config": None, "access_log": False}
    )
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", **options))

    async def serve() -> None:
        try:
            await server.serve()
        except SystemExit as exc:  # uvicorn exits when it cannot bind; not out of the event loop
            if port_open(port):
                raise PortTaken(f"{name}: port {port} taken") from exc
            raise RuntimeError(f"{name} exited during start-up (uvicorn's status {exc.code})") from exc

    task = asyncio.create_task(serve())
    while not server.started:
        if task.done():
            task.result()  # surface the start-up error
            raise RuntimeError(f"{name} stopped during start-up")
        await asyncio.sleep(0.05)
    return server, task


def service_process(
    name: str, env: dict[str, str], log_dir: Path, port: int | None = None
) -> tuple[ManagedProcess, RunningService]:
    """A service as a separate OS process (`python -m regia_<name>`), ready when it answers."""
    port = port or free_port()
    running = RunningService(name, port)

    def ready() -> bool:
        # Its own name, not just a 200: another test's service may hold the port this one
        # failed to bind (address already in use), and answer in its stead.
        try:
            r = httpx.get(f"{running.url}/health/ready", timeout=1.0)
            return r.status_code == 200 and r.json().get("service") == name
        except (httpx.HTTPError, ValueError):
            return False

    process = ManagedProcess(
        name,
        [sys.executable, "-m", f"regia_{name}"],
        log_dir / f"{name}.log",
        env={**env, SERVICE_PORT_VARS[name]: str(port)},
        ready=ready,
    )
    return process, running
