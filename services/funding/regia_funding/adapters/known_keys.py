"""The API keys this funding process has verified, kept in memory so that a request does
not cost a round trip to PostgreSQL to read its key.

Why: reading the key was one statement, and one transaction, of every request an
institution sends; at a steady rate it was a fifth of the transactions PostgreSQL ran and
9 % of funding's CPU (docs/performance.md, "Issue 21, third session"). Nothing in a
well-kept library does this with the guarantee below, and the guarantee is the whole
point, so it is written here.

Guarantees:
- A key changed or deleted in the table (revoked, by any funding process or by hand) is
  forgotten here when the change's transaction commits: the table's trigger announces it
  on `<schema>_api_keys` (migration 0012), and `listen` hears it. The process that revokes
  a key forgets it at once as well (`forget`), so its own next request is refused.
- Nothing is answered from memory while this process is not listening: before the first
  `LISTEN`, while the listening connection is lost or being replaced, and after it failed
  its check. Every lookup then reads the table, as if there were no memory at all.
- A read that raced a change is not kept: a row read before a change was heard (of any
  key, or the start of listening) may be stale, so `keep` refuses it (the generation).
- Only keys that exist and are not revoked are kept, at most `capacity` (the least
  recently used go first), for at most `ttl_s`: an unknown key id costs a read every time
  and cannot fill the memory, and an entry's age is bounded even if a notification were
  lost in a way the connection check does not see.
"""

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from prometheus_client import CollectorRegistry, Counter

from regia_shared.observability.logs import get_logger

log = get_logger(__name__)
# The listening connection's application_name, by which an operator finds it in
# pg_stat_activity.
LISTENER = "regia-funding-key-changes"


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    institution_id: str
    key_sha256: str
    instruments: frozenset[str] | None  # None: every instrument

    @classmethod
    def of(cls, row: asyncpg.Record) -> "KeyRow":
        instruments = row["instruments"]
        return cls(
            row["key_id"],
            row["institution_id"],
            row["key_sha256"],
            frozenset(instruments) if instruments is not None else None,
        )


class KnownKeys:
    def __init__(
        self,
        *,
        capacity: int = 10_000,
        ttl_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.reads = KeyReads(registry or CollectorRegistry(auto_describe=True))
        self._capacity = capacity
        self._ttl_s = ttl_s
        self._clock = clock
        self._rows: OrderedDict[str, tuple[float, KeyRow]] = OrderedDict()
        self._generation = 0
        self._listening = False

    @property
    def listening(self) -> bool:
        return self._listening

    @property
    def generation(self) -> int:
        """Take it before reading a key from the table, and hand it to `keep`."""
        return self._generation

    def get(self, key_id: str) -> KeyRow | None:
        """The key as last read, or None: read it from the table (and `keep` it)."""
        if not self._listening:
            return None
        held = self._rows.get(key_id)
        if held is None:
            return None
        kept_at, row = held
        if self._clock() - kept_at > self._ttl_s:
            del self._rows[key_id]
            return None
        self._rows.move_to_end(key_id)
        return row

    def keep(self, row: KeyRow, generation: int) -> None:
        """Keep a key read from the table while `generation` was current; a key revoked is
        never passed here (the caller refuses it)."""
        if not self._listening or generation != self._generation:
            return
        self._rows[row.key_id] = (self._clock(), row)
        self._rows.move_to_end(row.key_id)
        while len(self._rows) > self._capacity:
            self._rows.popitem(last=False)

    def forget(self, key_id: str) -> None:
        self._generation += 1
        self._rows.pop(key_id, None)

    def forget_all(self) -> None:
        self._generation += 1
        self._rows.clear()

    def started_listening(self) -> None:
        # What was read before may predate a change nobody heard: start empty, and refuse
        # what reads that began before this moment bring back.
        self.forget_all()
        self._listening = True

    def stopped_listening(self) -> None:
        self._listening = False
        self.forget_all()

    def heard(self, payload: str) -> None:
        if payload == "*":
            self.forget_all()
        else:
            self.forget(payload)


class KeyReads:
    """Counts where keys were read from: regia_funding_key_reads_total{source}."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._reads = Counter(
            "regia_funding_key_reads",
            "API keys looked up for a request or an inbound message, by where they were read from: "
            "memory (verified before, and not changed since) or database",
            ["source"],
            registry=registry,
        )
        self.memory = self._reads.labels("memory")
        self.database = self._reads.labels("database")


async def listen(
    known: KnownKeys, dsn: str, schema: str, *, check_every_s: float = 5.0, retry_after_s: float = 1.0
) -> None:
    """Forever: LISTEN for key changes on a connection of its own, and check that
    connection every `check_every_s`; while it is down, `known` answers nothing."""
    channel = f"{schema}_api_keys"
    while True:
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(dsn, server_settings={"search_path": schema, "application_name": LISTENER})
            conn.add_termination_listener(lambda _conn: known.stopped_listening())
            await conn.add_listener(channel, lambda _c, _pid, _channel, payload: known.heard(payload))
            known.started_listening()
            log.info("api key changes listened to", channel=channel)
            while True:
                await asyncio.sleep(check_every_s)
                # A connection that died without a word (a network cut) fails this check.
                await asyncio.wait_for(conn.fetchval("SELECT 1"), check_every_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database went away: answer from the table until back
            log.warning("api key changes not listened to, keys read from the database", error=repr(exc))
        finally:
            known.stopped_listening()
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)
        await asyncio.sleep(retry_after_s)
