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


# The slowest files, slowest first, from the clean-clone runs' durations (README, "The test
# suite"). They are collected first so that the parallel workers (`--dist loadfile
# --no-loadscope-reorder`, regia/checks.py) start them first and finish together; the many
# short files fill in behind them. Order only: a file missing here runs as before.
SLOWEST_FIRST = (
    "tests/console/test_console_browser_100k.py",
    "tests/integration/test_bench_quick.py",
    "tests/faults/test_consumer_killed.py",
    "tests/hostile/test_schemathesis.py",
    "tests/console/test_console_browser.py",
    "tests/integration/test_regia_up.py",
    "tests/faults/test_infra_network_pause.py",
    "tests/faults/test_infra_broker_restart.py",
    "tests/load/test_sustained_load.py",
    "tests/unit/test_opencoesione_streaming.py",
    "tests/faults/test_regia_up_supervises.py",
    "tests/e2e/test_consumer_killed_mid_stream.py",
    "tests/integration/test_security_secrets_in_logs.py",
    "tests/e2e/test_core_path.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: n for n, path in enumerate(SLOWEST_FIRST)}
    # A stable sort: within a file, and among the files not listed, the order is unchanged.
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))


def pytest_report_header() -> str:
    return f"regia: real PostgreSQL and broker over TCP (pid {os.getpid()})"
