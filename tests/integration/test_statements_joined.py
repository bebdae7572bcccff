"""Several writes in one round trip (`regia_shared.statements`) against a real PostgreSQL:
they run in the order given, each sees its own arguments, a foreign key between them holds,
and one that fails leaves none of them."""

import asyncpg
import pytest

from regia_shared.statements import Write, joined, write_together

from ..support.infra import Database


async def connected(database: Database) -> asyncpg.Connection:
    conn = await asyncpg.connect(database.dsn)
    await conn.execute(
        "CREATE TABLE parents (id text PRIMARY KEY, name text NOT NULL);"
        " CREATE TABLE children (n bigserial PRIMARY KEY, parent text NOT NULL REFERENCES parents (id), v int);"
        " CREATE TABLE seen (n bigserial PRIMARY KEY, what text NOT NULL)"
    )
    return conn


def parents(ids: list[str]) -> Write:
    return Write(
        "INSERT INTO parents (id, name) SELECT i, 'p-' || i FROM unnest($1::text[]) AS i", [ids], returning="id, name"
    )


def children(parent: str, values: list[int]) -> Write:
    return Write("INSERT INTO children (parent, v) SELECT $1::text, v FROM unnest($2::int[]) AS v", [parent, values])


def seen(what: str) -> Write:
    return Write("INSERT INTO seen (what) VALUES ($1)", [what])


async def test_writes_run_in_the_order_given_with_their_own_arguments(database: Database) -> None:
    conn = await connected(database)
    try:
        async with conn.transaction():
            done = await write_together(
                conn, [seen("first"), parents(["a", "b"]), children("a", [1, 2, 3]), seen("second"), seen("third")]
            )
        assert [d.count for d in done] == [1, 2, 3, 1, 1]
        assert sorted(done[1].rows) == [("a", "p-a"), ("b", "p-b")]
        assert [d.rows for d in (done[0], done[2], done[3], done[4])] == [[], [], [], []]
        # The serial says the order they ran in: the one given, every time the same.
        assert [r["what"] for r in await conn.fetch("SELECT what FROM seen ORDER BY n")] == ["first", "second", "third"]
        # A child refers to a parent inserted by the same statement: checked at its end, and holds.
        assert await conn.fetchval("SELECT array_agg(v ORDER BY v) FROM children WHERE parent = 'a'") == [1, 2, 3]
    finally:
        await conn.close()


async def test_one_failing_write_leaves_none(database: Database) -> None:
    conn = await connected(database)
    try:
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await write_together(conn, [seen("lost"), parents(["x"]), children("nobody", [1])])
        await write_together(conn, [parents(["y"])])
        with pytest.raises(asyncpg.UniqueViolationError):
            await write_together(conn, [seen("lost too"), parents(["y"])])
        assert await conn.fetchval("SELECT count(*) FROM seen") == 0
        assert await conn.fetchval("SELECT array_agg(id) FROM parents") == ["y"]
    finally:
        await conn.close()


def test_parameters_are_renumbered_past_the_earlier_statements() -> None:
    sql, args = joined([children("a", [1]), seen("s"), children("b", [2])])
    assert "SELECT $1::text, v FROM unnest($2::int[])" in sql
    assert "VALUES ($3)" in sql
    assert "SELECT $4::text, v FROM unnest($5::int[])" in sql
    assert args == ["a", [1], "s", "b", [2]]


def test_a_statement_that_cannot_be_joined_is_refused() -> None:
    with pytest.raises(ValueError, match="parameters"):
        Write("INSERT INTO seen (what) VALUES ($1), ($3)", ["a", "b"])
    with pytest.raises(ValueError, match="RETURNING"):
        Write("INSERT INTO seen (what) VALUES ($1) RETURNING n", ["a"])
    with pytest.raises(ValueError, match="no statement"):
        joined([])
