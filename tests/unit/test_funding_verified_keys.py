"""Funding's memory of the API keys it verified lately (entrypoints.verified_keys): a key is
read from the table once, then taken from memory while it is fresh, and only with the very
secret that was verified; an unknown, wrong or revoked key is never remembered. (That a key
revoked meanwhile is refused where its request would be recorded is
tests/integration/test_funding_recording_races.py's, and at the door
tests/integration/test_security_keys.py's.)"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from regia_funding.entrypoints.auth import caller_for_key, format_key
from regia_funding.entrypoints.verified_keys import VerifiedKeys
from regia_funding.service_layer.recording import Caller
from regia_shared.http.auth import hash_secret

KEY = format_key("k1", "s3cret")
OTHER = format_key("k1", "guessed")


class Table:
    """The api_keys rows a lookup reads, counting the reads."""

    def __init__(self, **rows: dict[str, Any]) -> None:
        self.rows = rows
        self.reads = 0

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        table = self

        class Conn:
            async def fetchrow(self, _sql: str, key_id: str) -> dict[str, Any] | None:
                table.reads += 1
                return table.rows.get(key_id)

        yield Conn()


def row(key: str, revoked: bool = False, instruments: list[str] | None = None) -> dict[str, Any]:
    return {
        "key_id": "k1",
        "institution_id": "regione-liguria",
        "key_sha256": hash_secret(key),
        "instruments": instruments,
        "revoked_at": "2026-12-07" if revoked else None,
    }


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_key_is_read_once_then_taken_from_memory_with_its_scope() -> None:
    table, memory = Table(k1=row(KEY, instruments=["por-fesr"])), VerifiedKeys()
    first = await caller_for_key(table, KEY, memory=memory)
    again = await caller_for_key(table, KEY, memory=memory)
    assert first == again == Caller("regione-liguria", "k1", "http", frozenset({"por-fesr"}))
    assert table.reads == 1
    # Another channel gets the same caller on its own channel, still without a read.
    assert (await caller_for_key(table, KEY, "kafka", memory=memory)) == Caller(
        "regione-liguria", "k1", "kafka", frozenset({"por-fesr"})
    )
    assert table.reads == 1


async def test_a_wrong_secret_under_a_remembered_id_is_read_and_refused() -> None:
    table, memory = Table(k1=row(KEY)), VerifiedKeys()
    await caller_for_key(table, KEY, memory=memory)
    assert await caller_for_key(table, OTHER, memory=memory) is None
    assert table.reads == 2
    assert await caller_for_key(table, KEY, memory=memory) is not None and table.reads == 2


async def test_unknown_and_revoked_keys_are_never_remembered() -> None:
    memory = VerifiedKeys()
    revoked = Table(k1=row(KEY, revoked=True))
    for _ in range(2):
        assert await caller_for_key(revoked, KEY, memory=memory) is None
        assert await caller_for_key(Table(), KEY, memory=memory) is None
    assert revoked.reads == 2 and len(memory) == 0


async def test_without_a_memory_every_lookup_reads() -> None:
    table = Table(k1=row(KEY))
    for _ in range(3):
        assert await caller_for_key(table, KEY) is not None
    assert table.reads == 3


async def test_a_key_is_forgotten_after_its_time_when_told_and_when_the_memory_is_full() -> None:
    clock = Clock()
    table, memory = Table(k1=row(KEY)), VerifiedKeys(ttl_s=60, capacity=2, clock=clock)
    await caller_for_key(table, KEY, memory=memory)
    clock.now = 59.9
    await caller_for_key(table, KEY, memory=memory)
    assert table.reads == 1
    clock.now = 60  # verified at 0: its time is up
    await caller_for_key(table, KEY, memory=memory)
    assert table.reads == 2
    memory.forget("k1")
    await caller_for_key(table, KEY, memory=memory)
    assert table.reads == 3
    caller = Caller("regione-liguria", "k2")
    memory.remember("k2", hash_secret("x"), caller)
    memory.remember("k3", hash_secret("y"), caller)  # full: k1, the least recently used, goes
    assert len(memory) == 2 and memory.caller("k1", KEY) is None
    assert memory.caller("k3", "y") == caller
