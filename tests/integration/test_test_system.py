"""The test system's own start-up: a service whose chosen port another process took before
it could bind it is started again on another port, never taken for the process that holds
it (which is how an end-to-end test once sent its requests to another test's service); and
the suite's PostgreSQL does not wait for the disk at commit, while `regia up`'s does."""

import socket
from pathlib import Path

import httpx
import pytest

from regia.local.embedded.postgres import EmbeddedPostgres
from regia.local.embedded.process import free_port

from ..support import services
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS
from ..support.system import running_system


def test_a_service_whose_port_was_taken_starts_on_another(
    service_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken, free_port()])
        monkeypatch.setattr(services, "free_port", lambda: next(ports))
        with running_system(service_env, tmp_path) as system:
            partners = system.start("partners")
            assert partners.port != taken
            r = httpx.get(f"{partners.url}/health/ready", headers=ADMIN_HEADERS, timeout=5)
            assert r.json()["service"] == "partners"
            assert "address already in use" in (tmp_path / "partners.log").read_text()


async def test_the_suites_postgres_skips_fsync_and_regia_ups_does_not(database: Database, tmp_path: Path) -> None:
    assert await database.fetchval("public", "SHOW fsync") == "off"
    assert await database.fetchval("public", "SHOW full_page_writes") == "off"
    durable = EmbeddedPostgres(tmp_path / "pg", free_port(), tmp_path / "logs").command()
    assert not any(setting.startswith(("fsync", "full_page_writes")) for setting in durable)
