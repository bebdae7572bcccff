"""Production's least-privilege layout on a real PostgreSQL: each service connects as its
own role, which owns its schema (deploy/postgres/init makes them) and may create nothing
else. Every service's migrations must run under it, and a role that may not create its
missing schema gets a clear error rather than a half-started service."""

import asyncpg
import pytest

from regia_shared.db import create_pool, migrate

from ..support.infra import Database

SERVICES = ("funding", "objectives", "partners", "notifier")


def as_role(dsn: str, role: str) -> str:
    scheme, rest = dsn.split("://", 1)
    return f"{scheme}://{role}@{rest.split('@', 1)[1]}" if "@" in rest else f"{scheme}://{role}@{rest}"


async def make_role(database: Database, role: str, schema: str | None) -> None:
    conn = await asyncpg.connect(database.dsn)
    try:
        await conn.execute(f"CREATE ROLE {role} LOGIN")
        # What deploy/postgres/init/10-regia-roles.sh grants: connect, and its own schema.
        await conn.execute(f'GRANT CONNECT ON DATABASE "{database.name}" TO {role}')
        await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        if schema:
            await conn.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {role}")
    finally:
        await conn.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_each_service_migrates_as_the_owner_of_its_schema_alone(database: Database, service: str) -> None:
    role = f"regia_{service}"
    await make_role(database, role, service)
    pool = await create_pool(as_role(database.dsn, role), service)
    try:
        applied = await migrate(pool, service, f"regia_{service}")
        assert applied, "no migration ran"
        async with pool.acquire() as conn:
            # The role cannot reach outside its schema: no CREATE on the database.
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("CREATE SCHEMA intruder")
    finally:
        await pool.close()


async def test_a_missing_schema_the_role_may_not_create_is_a_clear_error(database: Database) -> None:
    await make_role(database, "regia_orphan", None)
    with pytest.raises(RuntimeError, match="does not exist and this database role may not create it"):
        await create_pool(as_role(database.dsn, "regia_orphan"), "orphan")
