"""Fixtures of the hostile-input checks: each service in-process on the real PostgreSQL and
broker, and a count of every row a service holds, to prove a refusal wrote nothing."""

import contextlib
from collections.abc import AsyncIterator

import pytest

from regia_notifier.app import create_app as notifier_app
from regia_objectives.app import create_app as objectives_app
from regia_partners.app import create_app as partners_app

from ..support.funding_api import issue_key, running_funding
from ..support.infra import Database
from ..support.services import RunningService, in_process
from ..support.smtp import SmtpCapture

SCHEMAS = ("funding", "objectives", "partners", "notifier")


async def rows(database: Database, schemas: tuple[str, ...] = SCHEMAS) -> dict[str, int]:
    """The row count of every table of the given services' schemas (outbox, ledger,
    partners, deliveries, idempotency keys...), by schema.table; but the audit log, which
    records every write request, refused ones included, by design."""
    conn = await database.connect()
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'"
            " AND table_name <> 'audit_log'",
            list(schemas),
        )
        counts = {}
        for t in tables:
            name = f'"{t["table_schema"]}"."{t["table_name"]}"'
            counts[f"{t['table_schema']}.{t['table_name']}"] = await conn.fetchval(f"SELECT count(*) FROM {name}")
        return counts
    finally:
        await conn.close()


@pytest.fixture
async def funding(service_env, broker) -> AsyncIterator[RunningService]:  # type: ignore[no-untyped-def]
    async for service in running_funding(broker.bootstrap_servers):
        yield service


@pytest.fixture
async def institution(funding: RunningService) -> dict[str, str]:
    """Regione Liguria's API key headers."""
    return await issue_key(funding, "regione-liguria")


@pytest.fixture
async def partners(service_env) -> AsyncIterator[RunningService]:  # type: ignore[no-untyped-def]
    async with in_process("partners", partners_app) as service:
        yield service


@pytest.fixture
async def objectives(service_env) -> AsyncIterator[RunningService]:  # type: ignore[no-untyped-def]
    async with in_process("objectives", objectives_app) as service:
        yield service


@pytest.fixture
def smtp() -> AsyncIterator[SmtpCapture]:  # type: ignore[misc]
    with SmtpCapture() as capture:
        yield capture


@pytest.fixture
async def notifier(service_env, smtp, monkeypatch) -> AsyncIterator[RunningService]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("REGIA_NOTIFIER_BACKOFF_BASE_S", "0.2")
    monkeypatch.setenv("REGIA_NOTIFIER_BACKOFF_MAX_S", "0.5")
    async with in_process("notifier", notifier_app) as service:
        yield service


@contextlib.asynccontextmanager
async def unchanged(database: Database, schemas: tuple[str, ...] = SCHEMAS) -> AsyncIterator[None]:
    """Asserts the block changed no row of the given schemas."""
    before = await rows(database, schemas)
    yield
    after = await rows(database, schemas)
    changed = {t: (before.get(t), n) for t, n in after.items() if before.get(t) != n}
    assert not changed, f"a refused request wrote rows: {changed}"
