"""Real infrastructure for integration and end-to-end tests: the embedded PostgreSQL (one
server per test session, a fresh database per test) and the embedded Kafka-compatible
broker (a fresh one per test, so topics, offsets and consumer groups never leak between
tests). Both are reached over loopback TCP, exactly as the services reach them."""

import secrets
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from regia.local.embedded.broker import EmbeddedBroker
from regia.local.embedded.postgres import EmbeddedPostgres, ensure_database
from regia.local.embedded.process import free_port


@dataclass
class Database:
    server: EmbeddedPostgres
    name: str

    @property
    def dsn(self) -> str:
        return self.server.dsn(self.name)

    async def connect(self, schema: str | None = None) -> asyncpg.Connection:
        settings = {"search_path": schema} if schema else None
        return await asyncpg.connect(self.dsn, server_settings=settings)

    async def fetchval(self, schema: str, sql: str, *args: object) -> object:
        conn = await self.connect(schema)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    async def fetch(self, schema: str, sql: str, *args: object) -> list[asyncpg.Record]:
        conn = await self.connect(schema)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()


def start_postgres(root: Path) -> EmbeddedPostgres:
    # Not durable: the suite's commits need not wait for the shared disk (see EmbeddedPostgres).
    return EmbeddedPostgres(root / "pg", free_port(), root / "logs", durable=False).start()


async def fresh_database(server: EmbeddedPostgres) -> Database:
    name = f"regia_test_{secrets.token_hex(4)}"
    await ensure_database(server.dsn("postgres"), name)
    return Database(server, name)


def start_broker(root: Path) -> EmbeddedBroker:
    return EmbeddedBroker(free_port(), root / "logs").start()
