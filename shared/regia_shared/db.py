"""PostgreSQL plumbing: a pool confined to the service's own schema, and migrations.

Migrations are plain SQL files applied in name order, each in its own transaction, under
an advisory lock so that replicas starting together migrate once. The shared ones (outbox,
inbox) are applied first, into the service's schema. Hand-written because the stack is
asyncpg without an ORM, and these forty lines are all a forward-only migrator needs.
"""

from importlib import resources

import asyncpg

from regia_shared.db_arrays import narrow_array_checks
from regia_shared.observability.logs import get_logger

log = get_logger(__name__)
# Every process that opens a pool sends its rows as column arrays: asyncpg checks each
# element of them without a Python call from here on (db_arrays: why, and what it keeps).
narrow_array_checks()


class PooledConnection(asyncpg.Connection):
    """A pooled connection given back without asyncpg's reset query (advisory unlock,
    CLOSE ALL, UNLISTEN, RESET ALL), which is a round trip on every release: several per
    HTTP request, one per consumer batch. Nothing leaves session state on a pooled
    connection: the migrator releases its advisory lock itself, and LISTEN and the outbox
    relay's leadership lock live on connections of their own. A transaction left open is
    still rolled back on release (asyncpg does that whatever the reset query)."""

    def get_reset_query(self) -> str:
        return ""


async def create_pool(dsn: str, schema: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    await ensure_schema(dsn, schema)
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        connection_class=PooledConnection,
        # Confine every connection to the service's schema: no service reads another's tables.
        server_settings={"search_path": schema, "application_name": f"regia-{schema}"},
    )


async def ensure_schema(dsn: str, schema: str) -> None:
    """Create the service's schema if it is missing. Looked up first: in production each
    service connects as its own role, which owns its schema (made by the database's init
    script) but may not create schemas, and PostgreSQL checks that privilege even for
    CREATE SCHEMA IF NOT EXISTS on a schema that exists."""
    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema):
            return
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{_ident(schema)}"')
    except asyncpg.UniqueViolationError:
        pass  # two replicas raced on CREATE SCHEMA IF NOT EXISTS; the schema exists
    except asyncpg.InsufficientPrivilegeError:
        raise RuntimeError(
            f"schema {schema!r} does not exist and this database role may not "
            f"create it: create it owned by the service's role "
            f"(CREATE SCHEMA {schema} AUTHORIZATION <role>)"
        ) from None
    finally:
        await conn.close()


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"invalid schema name {name!r}")
    return name


def _migration_files(package: str) -> list[tuple[str, str]]:
    folder = resources.files(package).joinpath("migrations")
    files = sorted((f.name, f.read_text()) for f in folder.iterdir() if f.name.endswith(".sql"))
    return files


async def migrate(pool: asyncpg.Pool, schema: str, package: str) -> list[str]:
    """Apply the shared migrations, then the service's; return the names applied now."""
    applied: list[str] = []
    async with pool.acquire() as conn:
        lock_key = f"regia.migrate.{schema}"
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", lock_key)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for origin in dict.fromkeys(("regia_shared", package)):
                for name, sql in _migration_files(origin):
                    qualified = f"{origin}/{name}"
                    if qualified in done:
                        continue
                    try:
                        async with conn.transaction():
                            await conn.execute(sql)
                            await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", qualified)
                    except asyncpg.PostgresError as exc:
                        # Rolled back whole: the schema is as the previous release left it,
                        # and the operator is told which file to look at (README, Upgrading).
                        raise RuntimeError(
                            f"migration {qualified} failed in schema {schema!r}, nothing of it applied: {exc}"
                        ) from exc
                    applied.append(qualified)
                    done.add(qualified)
                    log.info("migration applied", migration=qualified, schema=schema)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", lock_key)
    return applied
