"""The transactional outbox: write events with the state change, publish them after.

`append` is called inside the caller's transaction. `OutboxRelay` publishes committed
rows in id order and marks them. Exactly one relay per schema publishes at a time (a
session advisory lock elects it), which is what keeps events in order per key across
replicas; the others stand by and take over when the leader's connection drops.

A crash between publishing and marking republishes those rows: delivery is at least once,
and every consumer is idempotent on `event_id`.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg

from regia_shared import failpoints
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.frozen_init import direct_init
from regia_shared.observability.logs import get_logger
from regia_shared.statements import Write

log = get_logger(__name__)


@direct_init
@dataclass(frozen=True)
class OutboxRow:
    id: int
    topic: str
    key: str
    type: str
    body: str
    correlation_id: str


Publish = Callable[[Sequence[OutboxRow]], Awaitable[None]]


async def append(conn: asyncpg.Connection, topic: str, envelopes: Sequence[Envelope]) -> None:
    """Add events to the outbox, in the caller's transaction, with one statement.

    The ids (bigserial) follow the order of `envelopes` (ORDER BY the ordinality): the
    relay publishes in id order, which is what keeps the events of a key in order. One
    statement also fires the statement-level NOTIFY trigger once, not once per event.
    """
    if not envelopes:
        return
    statement = appended(topic, envelopes)
    await conn.execute(statement.sql, *statement.args)


def appended(topic: str, envelopes: Sequence[Envelope]) -> Write:
    """`append`'s statement, for a caller that joins it with its other writes
    (`regia_shared.statements`); the same guarantees."""
    return Write(
        "INSERT INTO outbox (event_id, topic, key, type, body, correlation_id)"
        " SELECT e.event_id, $1::text, e.key, e.type, e.body, e.correlation_id"
        " FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[])"
        " WITH ORDINALITY AS e(event_id, key, type, body, correlation_id, n) ORDER BY e.n",
        [
            topic,
            [e.event_id for e in envelopes],
            [e.key for e in envelopes],
            [e.type for e in envelopes],
            [e.to_json().decode() for e in envelopes],
            [e.correlation_id for e in envelopes],
        ],
    )


async def backlog(conn: asyncpg.Connection) -> tuple[int, float]:
    """Unpublished rows and the age in seconds of the oldest one."""
    row = await conn.fetchrow(
        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age"
        " FROM outbox WHERE published_at IS NULL"
    )
    return row["n"], float(row["age"])


class OutboxRelay:
    def __init__(
        self,
        dsn: str,
        schema: str,
        publish: Publish,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        retention_days: int = 7,
    ) -> None:
        self._dsn = dsn
        self._schema = schema
        self._publish = publish
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._retention_days = retention_days
        self._wake = asyncio.Event()
        # Set while this relay holds the lead and listens for commits (tests wait on it).
        self.leading = asyncio.Event()
        self.published_total = 0
        self._last_prune = 0.0

    async def run(self) -> None:
        """Forever: become leader, then drain on every notification or poll tick."""
        while True:
            try:
                await self._lead_and_drain()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the DB or the broker went away: back off, retry
                log.warning("outbox relay interrupted", schema=self._schema, error=str(exc))
                await asyncio.sleep(self._poll_interval_s)

    async def _lead_and_drain(self) -> None:
        conn = await asyncpg.connect(self._dsn, server_settings={"search_path": self._schema})
        try:
            lock = f"regia.outbox.{self._schema}"
            # Polled: another relay holds the lock in PostgreSQL, and no asyncio.Event can say it is free.
            while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock):  # noqa: ASYNC110
                await asyncio.sleep(self._poll_interval_s)
            await conn.add_listener(f"{self._schema}_outbox", self._on_notify)
            self.leading.set()
            log.info("outbox relay leading", schema=self._schema)
            while True:
                # Cleared before the drain, not after it: a row committed while the drain
                # runs notifies during it, and clearing afterwards would lose that wake-up
                # and leave the row waiting for the next poll tick.
                self._wake.clear()
                published = await self.drain_once(conn)
                if published >= self._batch_size:
                    continue
                if published == 0:
                    await self._prune(conn)
                try:
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
                except TimeoutError:
                    pass
                if conn.is_closed():
                    raise ConnectionError("relay connection closed")
        finally:
            self.leading.clear()
            await conn.close()

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def drain_once(self, conn: asyncpg.Connection) -> int:
        rows = await conn.fetch(
            "SELECT id, topic, key, type, body, correlation_id FROM outbox"
            " WHERE published_at IS NULL ORDER BY id LIMIT $1",
            self._batch_size,
        )
        if not rows:
            return 0
        batch = [OutboxRow(**dict(r)) for r in rows]
        await self._publish(batch)
        failpoints.hit("outbox.after_publish")  # tests: published, not yet marked
        await conn.execute(
            "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
            [r.id for r in batch],
        )
        self.published_total += len(batch)
        return len(batch)

    async def _prune(self, conn: asyncpg.Connection) -> None:
        if time.monotonic() - self._last_prune < 60:
            return
        self._last_prune = time.monotonic()
        await conn.execute(PRUNE, self._retention_days)


# Published rows past the retention, deleted once a minute by the leading relay. Only rows
# written before the first row still within the retention are looked at, along the primary
# key from the oldest: a row published before the cut-off was written before it, and rows
# are written in id order but for the moments between a writer's id and its statement's
# time, which the next minute's prune takes. A plain `published_at < cut-off` read the
# whole table every minute, a week of rows to delete a minute's; with data checksums (the
# default since PostgreSQL 18) its first read of each page since a checkpoint also wrote
# the page whole into the WAL (73 MB in the benchmark's 100,000-event phase, deleting
# nothing).
PRUNE = (
    "DELETE FROM outbox WHERE published_at < now() - make_interval(days => $1)"
    " AND id < coalesce((SELECT min(id) FROM outbox WHERE created_at >= now() - make_interval(days => $1)),"
    " 9223372036854775807)"
)
