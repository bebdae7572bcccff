"""Fixtures for real-infrastructure tests. Unit tests use none of these."""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from regia.local.embedded.broker import EmbeddedBroker
from regia.local.embedded.postgres import EmbeddedPostgres

from .support.infra import Database, fresh_database, start_broker, start_postgres
from .support.services import base_env


@pytest.fixture(scope="session")
def infra_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("regia-infra")


@pytest.fixture(scope="session")
def postgres_server(infra_root: Path) -> Iterator[EmbeddedPostgres]:
    server = start_postgres(infra_root)
    yield server
    server.stop()


@pytest.fixture
async def database(postgres_server: EmbeddedPostgres) -> Database:
    return await fresh_database(postgres_server)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    server = start_broker(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def service_env(
    database: Database, broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, str]] | dict[str, str]:
    """Environment for services under test; also applied to this process, so in-process
    services read the same settings as the separate processes of end-to-end tests."""
    env = base_env(database.dsn, broker.bootstrap_servers)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def pytest_report_header() -> str:
    return f"regia: real PostgreSQL and broker over TCP (pid {os.getpid()})"


# The files that take longest (a clean-clone run's --durations), started first, and then the
# rest by directory, the slow kinds before the fast: with whole files handed to the workers
# in this order (`--no-loadscope-reorder`, regia/checks.py), the short files fill the gaps at
# the end instead of a long one starting last while the other workers sit idle.
LONGEST_FIRST = (
    "integration/test_bench_quick.py",
    "console/test_console_browser_100k.py",
    "integration/test_regia_up.py",
    "faults/test_infra_broker_restart.py",
    "hostile/test_schemathesis.py",
    "load/test_sustained_load.py",
    "console/test_console_browser.py",
    "faults/test_outbox_relay_killed.py",
    "e2e/test_core_path.py",
    "e2e/test_consumer_killed_mid_stream.py",
    "faults/test_infra_network_pause.py",
)
BY_DIRECTORY = ("console", "e2e", "faults", "load", "hostile", "integration", "unit")
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> tuple[int, int]:
        path = item.path.relative_to(TESTS).as_posix() if item.path.is_relative_to(TESTS) else ""
        if path in LONGEST_FIRST:
            return (0, LONGEST_FIRST.index(path))
        top = path.split("/", 1)[0]
        return (1, BY_DIRECTORY.index(top) if top in BY_DIRECTORY else len(BY_DIRECTORY))

    items.sort(key=rank)  # stable: the tests of a file keep their order
