"""Fixtures of the hostile-input checks: each service in-process on the real PostgreSQL and
broker, and a count of every row a service holds, to prove a refusal wrote nothing."""

import asyncio
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


async def unpublished(database: Database, schemas: tuple[str, ...]) -> int:
    """How many outbox rows of the given services the relays have yet to publish."""
    conn = await database.connect()
    try:
        total = 0
        for schema in schemas:
            exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f'"{schema}".outbox')
            if exists:
                total += await conn.fetchval(f'SELECT count(*) FROM "{schema}".outbox WHERE published_at IS NULL')
        return int(total)
    finally:
        await conn.close()


async def settled(database: Database, schemas: tuple[str, ...] = SCHEMAS, quiet_s: float = 0.5) -> dict[str, int]:
    """The row counts once the services have gone quiet: every outbox row published and no
    count moving for `quiet_s`. Without it, a consumer still catching up on a service's
    start-up events (the notifier's projection of the partners, say) writes rows during a
    refused request and reads as if the refusal had written them (CI saw exactly that)."""
    deadline = asyncio.get_running_loop().time() + 30
    last = await rows(database, schemas)
    while True:
        await asyncio.sleep(quiet_s)
        now = await rows(database, schemas)
        if now == last and not await unpublished(database, schemas):
            return now
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the services did not go quiet within 30 s: {last} -> {now}")
        last = now


@contextlib.asynccontextmanager
async def unchanged(database: Database, schemas: tuple[str, ...] = SCHEMAS) -> AsyncIterator[None]:
    """Asserts the block changed no row of the given schemas (counted once every earlier
    write has finished travelling, see `settled`)."""
    before = await settled(database, schemas)
    yield
    after = await rows(database, schemas)
    changed = {t: (before.get(t), n) for t, n in after.items() if before.get(t) != n}
    assert not changed, f"a refused request wrote rows: {changed}"
