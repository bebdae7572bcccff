"""Consumer offsets committed every so often, not after every batch.

Guarantees, first:

- An offset is committed only once every record before it has been applied and its
  transaction committed in PostgreSQL: a commit sends the consumer's positions, and a
  position moves past a batch only when the batch is handed out, which happens only after
  the batch before it was applied or rewound (faststream's consume loop runs one batch at
  a time); a batch that failed is rewound (`rewound`) before anything is committed after it,
  and so is one that never reached the handler (a failure in faststream between the wait
  and the handler, which it would log and drop: `rewind_unhandled`, before the next wait).
- While records keep coming, a batch's offsets are committed at the end of the first batch
  that finishes `interval_s` or more after it; once they stop, within `interval_s` of the
  last one, from the subscriber's own wait for records. A service that stops commits what
  is pending first (`flush`, unless a batch is being applied just then, which the next start
  reads again, below).
- A crash, a kill or a rebalance redelivers the batches applied since the last commit, as
  it already redelivered a batch whose transaction had committed and whose offset commit
  had not been sent: the inbox (the Idempotency-Keys for funding's inbound topic) makes
  each of them change nothing. Nothing is lost and nothing counts twice; a restart re-reads
  up to `interval_s` of records.
- A commit that fails (the group rebalancing, the broker away) is tried again at the next
  batch or wait: the offsets stay uncommitted, which only means redelivery. The first
  failure of a run of them is logged, then one line a minute while they last, and one when
  a commit goes through again; each is counted (`counted`: regia_consumer_offset_commits_total).

Why: an offset commit is a request to the broker and an answer, which on a two-core
machine cost the objectives service 3.5 % of its CPU and the notifier 2 % in the
benchmark's end-to-end phase, and more at a steady rate, where every stage runs a batch of
a few records every few milliseconds (docs/performance.md). Committed less often, the
same work costs one commit every `interval_s` per consumer group.

Why not aiokafka's own `enable_auto_commit`: it commits on a timer of its own the
positions `getmany` has handed out, so a commit can land while their batch is still being
applied, and a crash then loses that batch (at most once). This commits only between
batches. faststream's `AckPolicy.MANUAL` leaves the commit to the handler, which calls
`applied` or `rewound` (faststream's own nack) for every batch it is given.
"""

import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from regia_shared.observability.logs import get_logger

log = get_logger(__name__)
DEFAULT_INTERVAL_S = 0.2
FAILURES_LOGGED_EVERY_S = 60.0


class OffsetCommits:
    """One consumer group's commits (one per subscriber: faststream's consume loop runs
    its batches one at a time, which is what the guarantees above rest on)."""

    def __init__(
        self, group: str, interval_s: float = DEFAULT_INTERVAL_S, counted: Callable[[str], None] | None = None
    ) -> None:
        if interval_s < 0:
            raise ValueError("interval_s must not be negative")
        self.group = group
        self.interval_s = interval_s
        self._counted = counted  # told "committed" or "failed" after each commit sent
        self._failing = 0  # failures in a row
        self._failure_logged_at = 0.0
        self._since: float | None = None  # when the oldest batch applied and not committed was
        self._consumer: AIOKafkaConsumer | None = None  # the one `handing_out` last saw
        self._applying = False  # a batch handed out and not yet applied or rewound
        self._starts: dict[TopicPartition, int] = {}  # that batch's first offset, per partition
        self.commits = 0  # sent and answered (tests, and a reader of this replica's state)
        self.unhandled = 0  # batches rewound because they never reached the handler

    @property
    def pending(self) -> bool:
        """Whether batches were applied whose offsets are not committed yet."""
        return self._since is not None

    def wait_ms(self, idle_ms: int) -> int:
        """How long the next wait for records may last: `idle_ms`, or less when applied
        offsets are waiting, so that they are committed on time if no record comes."""
        if self._since is None:
            return idle_ms
        left = self.interval_s - (time.monotonic() - self._since)
        return max(0, min(idle_ms, math.ceil(left * 1000)))  # rounded up: never a wait that ends just short

    def handing_out(self, consumer: AIOKafkaConsumer, records: Sequence[ConsumerRecord]) -> None:
        """The subscriber's wait for records ended with these (none: nothing to apply)."""
        self._consumer = consumer
        self._applying = bool(records)
        self._starts = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            self._starts[tp] = min(r.offset, self._starts.get(tp, r.offset))

    def rewind_unhandled(self, consumer: AIOKafkaConsumer) -> None:
        """Before the subscriber waits again: a batch handed out that was neither applied
        nor rewound never reached the handler; read it again from its first records."""
        if not self._applying:
            return
        self._applying = False
        self.unhandled += 1
        log.warning("a batch never reached its handler, reading it again", group=self.group)
        for tp, offset in self._starts.items():
            with contextlib.suppress(KafkaError):  # not ours any more: its new owner reads it
                consumer.seek(tp, offset)

    async def handled(self, message: Any, handling: Awaitable[None]) -> None:
        """Await a batch's handling, then `applied`; or, if it raises, `rewound` and raise.
        `message` is faststream's `KafkaAckableMessage` of the batch (a subscriber with
        `AckPolicy.MANUAL`)."""
        try:
            await handling
        except Exception:
            await self.rewound(message)  # nothing of it committed: read it again
            raise
        finally:
            self._applying = False
        await self.applied(message)

    async def applied(self, message: Any) -> None:
        """A batch was applied (its transaction committed): commit now if the oldest
        uncommitted one is `interval_s` old, else leave it for later. `message` is
        faststream's `KafkaAckableMessage` of the batch, whose ack commits."""
        if self._since is None:
            self._since = time.monotonic()
        if not self._due():
            return
        try:
            await message.ack()  # aiokafka's commit() of every position: this batch's ends
        except KafkaError as exc:
            self._failed(exc)
            return
        self._committed()

    async def rewound(self, message: Any) -> None:
        """A batch failed: rewind each of its partitions to its first record (faststream's
        nack), so that no commit after this one goes past it. Earlier batches stay
        applied, and pending."""
        await message.nack()

    async def idle(self, consumer: AIOKafkaConsumer) -> None:
        """No record came during a wait: commit what is pending if it is due (the wait
        runs between batches, so nothing is being applied)."""
        if self._since is None or not self._due():
            return
        try:
            await consumer.commit()
        except KafkaError as exc:
            self._failed(exc)
            return
        self._committed()

    async def flush(self) -> None:
        """Commit what is pending now, due or not: the service is stopping. Not while a
        batch is being applied (its positions are already past it): that batch and the ones
        before it are then read again by the next start, which changes nothing."""
        if self._since is None or self._applying or self._consumer is None:
            return
        try:
            await self._consumer.commit()  # the positions are read before its first await
        except KafkaError as exc:
            self._failed(exc)
            return
        self._committed()

    def _due(self) -> bool:
        return self._since is not None and time.monotonic() - self._since >= self.interval_s

    def _committed(self) -> None:
        self._since = None
        self.commits += 1
        if self._counted is not None:
            self._counted("committed")
        if self._failing:
            log.info("consumer offsets committed again", group=self.group, failed_before=self._failing)
            self._failing = 0

    def _failed(self, exc: KafkaError) -> None:
        # Kept pending: the next batch or wait tries again, and until then a restart only
        # redelivers what was applied (see the guarantees). Logged once a minute at most: a
        # commit is tried every interval, and a broker that refuses them all would otherwise
        # fill the log five lines a second.
        self._failing += 1
        if self._counted is not None:
            self._counted("failed")
        now = time.monotonic()
        if self._failing == 1 or now - self._failure_logged_at >= FAILURES_LOGGED_EVERY_S:
            self._failure_logged_at = now
            log.warning(
                "consumer offsets not committed, will try again",
                group=self.group,
                failures_in_a_row=self._failing,
                error=repr(exc),
            )
