"""Array parameters with asyncpg's check narrowed (regia_shared.db_arrays), against a real
PostgreSQL: every kind of array Regia sends arrives as it was, and any other container is
refused before anything is sent."""

import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest

import regia_shared.db  # noqa: F401  # narrows the check, as in every service
from regia_shared import db_arrays

from ..support.infra import Database


async def test_lists_and_tuples_of_every_type_arrive_as_they_were(database: Database) -> None:
    assert db_arrays.narrowed()
    ids = [uuid.uuid4(), None, uuid.uuid4()]
    at = [datetime(2026, 12, 7, 10, 0, tzinfo=UTC), None]
    conn = await asyncpg.connect(database.dsn)
    try:
        assert await conn.fetchval("SELECT $1::text[]", ["BENCH-1", "", None, 'à, "b" {c}']) == [
            "BENCH-1",
            "",
            None,
            'à, "b" {c}',
        ]
        assert await conn.fetchval("SELECT $1::bigint[]", [1, -2, None, 9_007_199_254_740_993]) == [
            1,
            -2,
            None,
            9_007_199_254_740_993,
        ]
        assert await conn.fetchval("SELECT $1::uuid[]", ids) == ids
        assert await conn.fetchval("SELECT $1::timestamptz[]", at) == at
        assert await conn.fetchval("SELECT $1::date[]", [date(2027, 1, 1)]) == [date(2027, 1, 1)]
        assert await conn.fetchval("SELECT $1::bool[]", [True, False, None]) == [True, False, None]
        assert await conn.fetchval("SELECT $1::text[]", ("a", "b")) == ["a", "b"]  # a tuple too
        assert await conn.fetchval("SELECT $1::text[]", []) == []
        # A list of lists is a second dimension, as before.
        assert await conn.fetchval("SELECT array_dims($1::int[])", [[1, 2, 3], [4, 5, 6]]) == "[1:2][1:3]"
        # What Regia's writes do with them: one row per element, columns side by side.
        rows = await conn.fetch(
            "SELECT * FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS k(line_id, version, n)",
            ["L-1", "L-2"],
            [1, 2],
        )
        assert [tuple(r) for r in rows] == [("L-1", 1, 1), ("L-2", 2, 2)]
    finally:
        await conn.close()


@pytest.mark.parametrize("container", [{"a"}, frozenset({"a"}), {"a": 1}.keys(), range(3)], ids=repr)
async def test_any_other_container_is_refused_before_anything_is_sent(database: Database, container: object) -> None:
    conn = await asyncpg.connect(database.dsn)
    try:
        with pytest.raises(asyncpg.DataError, match="sized iterable container expected"):
            await conn.fetchval("SELECT $1::text[]", container)
        assert await conn.fetchval("SELECT 1") == 1  # the connection is as it was
    finally:
        await conn.close()
