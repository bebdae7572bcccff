"""An upgrade whose migration fails: the error names the file, the failed migration leaves
nothing behind, the ones before it stay applied, and a fixed release applies the rest."""

import pytest

from regia_shared import db
from regia_shared.db import create_pool, migrate

from ..support.infra import Database


async def test_a_failing_migration_is_named_and_rolled_back_whole(database: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    releases = {
        "regia_shared": [],
        "regia_fake": [
            ("0001_ok.sql", "CREATE TABLE kept (x int)"),
            ("0002_bad.sql", "CREATE TABLE half (x int); CREATE TABLE broken ("),
        ],
    }
    monkeypatch.setattr(db, "_migration_files", lambda package: releases[package])
    pool = await create_pool(database.dsn, "fake")
    try:
        with pytest.raises(RuntimeError, match="migration regia_fake/0002_bad.sql failed in schema 'fake'"):
            await migrate(pool, "fake", "regia_fake")
        async with pool.acquire() as conn:
            assert [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")] == [
                "regia_fake/0001_ok.sql"
            ]
            assert await conn.fetchval("SELECT to_regclass('fake.kept')") is not None
            assert await conn.fetchval("SELECT to_regclass('fake.half')") is None

        releases["regia_fake"][1] = ("0002_bad.sql", "CREATE TABLE half (x int)")  # the fixed release
        assert await migrate(pool, "fake", "regia_fake") == ["regia_fake/0002_bad.sql"]
    finally:
        await pool.close()
