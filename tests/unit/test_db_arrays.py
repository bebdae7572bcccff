"""asyncpg's array check, narrowed (regia_shared.db_arrays): on in every process that opens
a pool, on the asyncpg installed, and only there. Its effect on what reaches PostgreSQL is
tests/integration/test_db_arrays.py."""

import asyncpg
import asyncpg.protocol.protocol as protocol

import regia_shared.db  # noqa: F401  # importing it narrows the check, as every service does
from regia_shared import db_arrays


def test_importing_the_pool_module_narrows_the_check() -> None:
    assert db_arrays.narrowed()
    assert protocol.IterableABC is db_arrays.ARRAY_CONTAINERS
    assert protocol.SizedABC is db_arrays.ARRAY_CONTAINERS
    assert db_arrays.narrow_array_checks()  # once is enough; again changes nothing
    assert protocol.IterableABC is db_arrays.ARRAY_CONTAINERS


def test_the_installed_asyncpg_is_one_whose_encoder_was_read() -> None:
    # Fails on an asyncpg upgrade: read its protocol/codecs/array.pyx (_is_array_iterable)
    # and add the version to KNOWN_VERSIONS if it still reads these two names as before.
    assert db_arrays._version() in db_arrays.KNOWN_VERSIONS, asyncpg.__version__
