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
