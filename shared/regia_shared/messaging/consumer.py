"""A batch consumer of envelopes with exactly-once effects.

For each batch the records are decoded; those that cannot be (bad JSON, a broken
envelope, an unsupported version, a payload that breaks its contract) are poison and go
to the consumer's dead-letter table and topic instead of blocking the partition. In ONE
transaction the remaining event ids are claimed in the inbox and the handler applies the
new ones; only after that commit are the offsets committed, and then not after every batch
but every `Polling.commit_interval_ms` (`offset_commits`). A crash anywhere before the
offset commit redelivers the batches since the last one, and the inbox makes the
redelivery change nothing. A transient failure (database down) raises, the batch is
rewound (nack) and retried, for as long as it lasts.

Any other failure (a value PostgreSQL refuses, a rule broken, a bug) would fail the same
way at every redelivery and stop the partition for good. So a batch that failed
`Polling.max_attempts` times in a row is split: its events are applied one by one, each in
its own transaction, and one that still fails is set aside like a poison message, with
the error (`dead_letters`, the DLQ topic, `regia poison replay` once the cause is fixed);
the others are applied and the partition goes on.

A service's consumers share one consumer group (`subscribe_group`): one fetch loop and one
offset commit for all its topics, and one transaction per batch in which each consumer
claims in its own inbox and applies its own events, in the order the service gives them. A
batch that keeps failing is split as a whole. A consumer's name, not its group's, keys its
inbox, dead letters, metrics and replays (`subscribe` registers a group of one, named after
its consumer).

Every record is counted once its batch has committed, by outcome: applied, duplicate
(the inbox knew it), ignored (a type this consumer does not want) or dead_lettered.

A record of a signed topic (every internal topic: regia_shared.messaging.signing) is read
only if its signature is the topic owner's: an unsigned one, one whose signature does not
match, or one signed with another service's key is forged, and set aside like poison
(error `forged: not signed by <owner> (...)`, counted in regia_events_forged_total) before
its bytes are even parsed; the rest of its batch is applied.

The inbox is the default record of what a consumer applied. A consumer whose effect is
itself one row per event, keyed by the event id, may claim with that row instead (`claim`):
the row is written in the same transaction, and an id it already holds is a duplicate, so
the guarantee is the inbox's without a second row per event (the notifier's causes,
`regia_notifier.adapters.funding_causes.claim`). A consumer whose effect is idempotent on
its own (a version no newer than the one held changes nothing, checked against the locked
row) keeps no record at all (`idempotent_effect`): every event is handed to its `apply`,
and a redelivery is absorbed by the effect (objectives' funding lines). Its records are
never counted as duplicates: the effect, not the claim, knows one.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict
from uuid import UUID

import asyncpg
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from faststream import AckPolicy, Context
from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope, EventPayload
from regia_shared.contracts.events.registry import UnknownEventType, parse_payload, read_typed
from regia_shared.frozen_init import direct_init
from regia_shared.messaging import signing
from regia_shared.messaging.inbox import claim_new
from regia_shared.messaging.offset_commits import OffsetCommits
from regia_shared.observability import metrics_consumer
from regia_shared.observability.logs import bind_contextvars, get_logger

log = get_logger(__name__)
# The header of a dead letter replayed by an earlier release, which published it again to
# its topic for one consumer: the topic's other consumers skip it. Replays are now applied
# in the service itself (`replay`), but such records may still sit in a topic.
REPLAY_FOR = "regia-replay-for"


@direct_init
@dataclass(frozen=True)
class Received:
    envelope: Envelope
    payload: EventPayload


Apply = Callable[[asyncpg.Connection, Sequence[Received]], Awaitable[Any]]
# Records, in the caller's transaction, that these events are applied, and returns the ids
# of those never recorded before: the events `apply` is then given. The inbox's
# (`inbox.claim_new` under the consumer's name) unless the subscription brings its own.
Claim = Callable[[asyncpg.Connection, Sequence[Received]], Awaitable[set[UUID]]]


def inbox_claim(consumer: str) -> Claim:
    async def claim(conn: asyncpg.Connection, events: Sequence[Received]) -> set[UUID]:
        return await claim_new(conn, consumer, [e.envelope.event_id for e in events])

    return claim


async def idempotent_effect(conn: asyncpg.Connection, events: Sequence[Received]) -> set[UUID]:
    """The claim of a consumer whose effect is idempotent by itself, so that it needs no
    record of what it applied: every event is new to it, and `apply` gets them all.

    Only for an effect that decides against the row it locks whether an event still
    changes anything, the way objectives applies a funding line's version only if it is
    newer than the one held (`line_version <` in the upsert's WHERE). Then a redelivery, a
    replay, an older version arriving late and two replicas applying the same event during
    a rebalance (the second waits on the row lock and finds the version held) all change
    nothing, as with the inbox, and the inbox's row per event, a statement a batch and a
    table that grows with every event are saved. An effect that cannot tell a repeat by
    itself (a delivery planned, a sum added to whatever the version) must keep the inbox."""
    del conn  # nothing is read or written: the effect is the record
    return {e.envelope.event_id for e in events}


# Called with the applied events and what `apply` returned, once their transaction has
# committed: the place for metrics, which must not count a batch that rolled back.
OnCommitted = Callable[[Sequence[Received], Any], None]


@dataclass(frozen=True)
class Poison:
    record: ConsumerRecord
    error: str
    type: str | None = None  # None: not even the envelope could be read
    forged: str | None = None  # why it is not its topic owner's (signing.Forged.reason)


@dataclass(frozen=True)
class Ignored:
    type: str


class PollingOptions(TypedDict):
    """The polling keywords of faststream's `broker.subscriber`, typed so that splatting
    them into its overloads type-checks."""

    session_timeout_ms: int
    heartbeat_interval_ms: int
    fetch_max_wait_ms: int
    batch_timeout_ms: int


@dataclass(frozen=True)
class Polling:
    """How a subscriber waits on the broker, which is most of an event's latency per hop.

    `fetch_max_wait_ms` is how long the broker may hold a fetch that finds nothing new.
    Apache Kafka answers a held fetch as soon as data arrives, but the embedded broker
    (Tansu) answers only when the wait ends: with aiokafka's default of 500 ms a message
    took 216 ms (p50) from produce to consume there, with 100 ms 16 ms, with 50 ms 10 ms.
    A short wait costs idle fetches (10 a second per consumer at 100 ms), which at 50 ms
    made the broker the third user of the CPU under a steady load.

    `batch_timeout_ms` is how long a subscriber's look for records waits when none come.
    The look returns the moment records arrive, so the wait costs no delay: it only sets
    how often an idle subscriber loops (`without_idle_sleep`; faststream's own batch
    subscriber slept as long again after an empty look, and a record that landed then
    waited for the sleep's end).

    `batch_max` is the most records one batch takes, all applied in one transaction. At a
    steady rate batches are small and this does not matter; under a backlog (a burst, a
    consumer catching up, an import) it decides how much each transaction serves: a batch of
    funding events writes each line and each objective-year it moves once, however many of
    its events fall on it, so 2,000 instead of 500 cut the coverage rows written, and the
    events that tell of them, per funding event.

    `commit_interval_ms` is how often, at most, a group commits its offsets while records
    keep coming (`offset_commits.OffsetCommits`, which says why redelivering what was applied
    since costs nothing but the re-reading).

    `max_attempts` is how many times in a row a batch may fail for a reason other than
    the infrastructure before `subscribe` splits it and sets aside what still fails. It
    rides here because every service already builds its subscribers' Polling from its
    settings, so the bound reaches every consumer.
    """

    session_timeout_ms: int = 10_000
    fetch_max_wait_ms: int = 100
    batch_timeout_ms: int = 500
    max_attempts: int = 5
    batch_max: int = 2000
    commit_interval_ms: int = 200

    @classmethod
    def of(cls, settings: Any) -> "Polling":
        """From a service's settings (`regia_shared.settings.ServiceSettings`)."""
        return cls(
            settings.kafka_session_timeout_ms,
            settings.kafka_fetch_max_wait_ms,
            settings.kafka_poll_timeout_ms,
            settings.consumer_max_attempts,
            settings.consumer_batch_max,
            settings.kafka_commit_interval_ms,
        )

    @property
    def heartbeat_interval_ms(self) -> int:
        """A quarter of the session timeout, at least a second, and never more than a third
        (Kafka's rule: a member must get at least three heartbeats in before the broker
        gives up on it), so a short session timeout still leaves room for two missed."""
        return min(max(1000, self.session_timeout_ms // 4), self.session_timeout_ms // 3)

    def options(self) -> PollingOptions:
        """Keyword arguments of faststream's `broker.subscriber(..., batch=True)`."""
        return {
            "session_timeout_ms": self.session_timeout_ms,
            "heartbeat_interval_ms": self.heartbeat_interval_ms,
            "fetch_max_wait_ms": self.fetch_max_wait_ms,
            "batch_timeout_ms": self.batch_timeout_ms,
        }


def decode(
    record: ConsumerRecord, wanted: frozenset[str], consumer: str | None = None, *, keys: signing.EventKeys | None
) -> Received | Poison | Ignored:
    """The typed event, a poison verdict, or Ignored for an event type this consumer skips.

    Two headers are looked at first. A dead letter replayed for another consumer of this
    topic (ops_dead_letters) is not this one's: it applied, skipped or set aside the
    original already. An event whose `type` header (the outbox relay sets it) names a type
    this consumer skips is not read at all: most consumers want a few of their topic's
    types, and reading an envelope costs more than everything else they do with it. A
    record without the header is read, and then skipped, applied or set aside by what it
    holds. Then the signature: a record that is not its topic owner's is poison, and its
    bytes are never parsed (`keys`: the owners' keys this service holds)."""
    headers = dict(record.headers) if record.headers else {}
    replayed_for = headers.get(REPLAY_FOR)
    if consumer is not None and replayed_for is not None and replayed_for.decode(errors="replace") != consumer:
        return Ignored("(replayed for another consumer)")
    declared = headers.get("type")
    if declared is not None and (named := declared.decode(errors="replace")) not in wanted:
        return Ignored(named)
    # `keys` None: a dead letter replayed, verified when it first came (see `replay`).
    forged = (
        None
        if keys is None
        else keys.verify(record.topic, record.key, record.value or b"", signing.record_signature(record.headers))
    )
    if forged is not None:
        return Poison(record, forged.error, forged=forged.reason)
    if declared is not None and (typed := read_typed(record.value or b"", declared.decode(errors="replace"))):
        return Received(*typed)
    try:
        envelope = Envelope.from_json(record.value or b"")
    except ValidationError as exc:
        return Poison(record, f"invalid envelope: {_errors(exc)}")
    if envelope.type not in wanted:
        return Ignored(envelope.type)
    try:
        return Received(envelope, parse_payload(envelope))
    except UnknownEventType as exc:
        return Poison(record, str(exc), envelope.type)
    except ValidationError as exc:
        return Poison(record, f"{envelope.type} payload breaks its contract: {_errors(exc)}", envelope.type)


async def raw_batch(message: Any) -> Sequence[ConsumerRecord]:
    """faststream's decoder for batch handlers that read the records themselves: the batch's
    aiokafka records, as they came. The default (a `json.loads` of every message, thrown
    away) costs as much as our decoding. Why the records come as the body and not through a
    `message: KafkaMessage` parameter: fast_depends resolves such a context parameter with a
    plain function, which it runs in a worker thread, a thread hand-off on every batch (2-3 %
    of each service's event loop at 200 events/s, and its latency on every hop). Since the
    handlers commit their offsets themselves (`offset_commits`) they take the message too, as
    that parameter: passed as the body instead, the hand-off went and the CPU a revision fell
    1-2 %, but the p99 at 200/s rose from 0.230-0.236 s to 0.305-0.359 s in alternating runs
    (docs/performance.md, the eleventh session), so the hand-off stays."""
    records: Sequence[ConsumerRecord] = message.raw_message  # a batch subscriber's: a tuple
    return records


def without_idle_sleep(subscriber: Any, commits: OffsetCommits | None = None) -> Any:
    """A faststream batch subscriber that waits for records only in aiokafka's `getmany`.

    faststream's batch subscriber (`BatchSubscriber.get_msg`) asks `getmany` for records
    with a wait of `batch_timeout_ms`, and when none came it *sleeps* as long again before it
    asks again. `getmany` already returns the moment records arrive, so the sleep adds
    nothing but delay: a record that lands during it waits for its end (up to the poll
    timeout on every hop, half of it on average when the hop is idle). And with the 20 ms
    that kept that delay small, each idle subscriber woke its event loop fifty times a
    second (the getmany and the sleep, with the tasks and futures around them): some 15
    ms of a core a second for every consumer group, measured with strace and /proc.

    So Regia's batch subscribers ask `getmany` again at once, and wait only in it: a poll
    timeout of half a second costs an idle subscriber two loops a second, and a record no
    delay. Replaced on the one subscriber given (the attribute faststream's consume loop
    calls); returns it, for `@without_idle_sleep(broker.subscriber(...), commits)`.

    The wait is also where a subscriber whose offsets are committed every so often
    (`commits`) commits them once records stop coming: it then waits no longer than their
    interval, and commits when the wait ends with nothing (`offset_commits`)."""

    async def get_msg(consumer: Any) -> tuple[ConsumerRecord, ...]:
        idle_ms = subscriber.batch_timeout_ms
        if commits is not None:
            commits.rewind_unhandled(consumer)
        wait_ms = commits.wait_ms(idle_ms) if commits is not None else idle_ms
        batches = await consumer.getmany(timeout_ms=wait_ms, max_records=subscriber.max_records)
        records = tuple(r for records in batches.values() for r in records)
        if commits is not None:
            commits.handing_out(consumer, records)
            if not records:
                await commits.idle(consumer)
        return records

    subscriber.get_msg = get_msg
    return subscriber


# SQLSTATE classes that say the database is away or busy, not that an event is wrong:
# 08 connection, 40 transaction rollback (serialization, deadlock), 53 insufficient
# resources, 57 operator intervention (shutdown, starting up), 58 system error (I/O).
_TRANSIENT_SQLSTATE = frozenset({"08", "40", "53", "57", "58"})


def transient(exc: BaseException) -> bool:
    """Whether a failure comes from the infrastructure (so retrying the same events may
    succeed) rather than from the events themselves. Such a failure never counts towards
    `max_attempts`: a database restarting must not get events dead-lettered."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # an explicit cause may say it better
        seen.add(id(current))
        if isinstance(current, OSError | TimeoutError | asyncpg.InterfaceError | KafkaError):
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate[:2] in _TRANSIENT_SQLSTATE:
            return True
        current = current.__cause__
    return False


class Strikes:
    """How many times in a row the batch starting at the same offsets failed, per
    partition. A redelivered batch starts where the failed one did (nack rewinds each
    partition to its first record), so that is how it is recognised, whatever records
    the broker adds after it. Bounded by the partitions this replica is given."""

    def __init__(self) -> None:
        self._failed: dict[tuple[str, int], tuple[int, int]] = {}  # (topic, partition) -> (offset, times)

    @staticmethod
    def starts(records: Sequence[ConsumerRecord]) -> dict[tuple[str, int], int]:
        found: dict[tuple[str, int], int] = {}
        for r in records:
            at = (r.topic, r.partition)
            found[at] = min(found.get(at, r.offset), r.offset)
        return found

    def times(self, starts: dict[tuple[str, int], int]) -> int:
        return max(
            (
                held[1]
                for at, offset in starts.items()
                if (held := self._failed.get(at)) is not None and held[0] == offset
            ),
            default=0,
        )

    def failed(self, starts: dict[tuple[str, int], int]) -> int:
        for at, offset in starts.items():
            held = self._failed.get(at)
            self._failed[at] = (offset, held[1] + 1 if held is not None and held[0] == offset else 1)
        return self.times(starts)

    def cleared(self, starts: dict[tuple[str, int], int]) -> None:
        for at in starts:
            self._failed.pop(at, None)


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors())[:2000]


@dataclass(frozen=True)
class Subscription:
    """What one consumer does with the events of its topic. Its name (`consumer`) keys its
    inbox, its dead letters (rows and topic), its metrics and its replays (`replay`); the
    consumer group that fetches for it is a service's (`subscribe_group`)."""

    consumer: str
    wanted: frozenset[str]
    apply: Apply
    on_committed: OnCommitted | None
    claim: Claim
    topic: str


def consumes(
    topic: str,
    consumer: str,
    wanted: Sequence[str],
    apply: Apply,
    *,
    on_committed: OnCommitted | None = None,
    claim: Claim | None = None,
) -> Subscription:
    """A subscription to one topic. `claim`: the record of applied events, the inbox (under
    the consumer's name) unless given (see the module's docstring)."""
    return Subscription(
        consumer, frozenset(wanted), apply, on_committed, claim if claim is not None else inbox_claim(consumer), topic
    )


_SUBSCRIPTIONS: dict[KafkaBroker, dict[str, Subscription]] = {}
_GROUPS: dict[KafkaBroker, dict[str, tuple[Subscription, ...]]] = {}
_COMMITS: dict[KafkaBroker, dict[str, OffsetCommits]] = {}


def subscriptions_of(broker: KafkaBroker) -> dict[str, Subscription]:
    """Every subscription registered on the broker, by consumer name."""
    return _SUBSCRIPTIONS.get(broker, {})


def groups_of(broker: KafkaBroker) -> dict[str, tuple[Subscription, ...]]:
    """Every consumer group registered on the broker through this module, with the
    subscriptions it fetches for."""
    return _GROUPS.get(broker, {})


def offset_commits(broker: KafkaBroker, group: str, polling: Polling) -> OffsetCommits:
    """A consumer group's offset commits, every `polling.commit_interval_ms`, registered on
    the broker so that a stopping service commits what is pending (`flush_offsets`)."""
    metrics = metrics_consumer.of(broker)
    commits = OffsetCommits(
        group, polling.commit_interval_ms / 1000, lambda outcome: metrics.offset_commit(group, outcome)
    )
    _COMMITS.setdefault(broker, {})[group] = commits
    return commits


def offset_commits_of(broker: KafkaBroker, group: str) -> OffsetCommits:
    """The offset commits of a consumer group registered on the broker (`offset_commits`)."""
    return _COMMITS[broker][group]


async def flush_offsets(broker: KafkaBroker) -> None:
    """Commit every group's pending offsets: called as a service stops, before its broker
    does, so that a restart reads again only what a crash would have left."""
    for commits in list(_COMMITS.get(broker, {}).values()):
        await commits.flush()


def consumer_names(broker: KafkaBroker) -> list[str]:
    """Every consumer's name: each subscription of this module's groups, and a group of a
    subscriber registered otherwise (funding's inbound commands), which is a consumer of
    its own name. A consumer's dead letters, and their gauge, go by this name."""
    shared = groups_of(broker)
    others = (getattr(sub, "group_id", None) for sub in broker.subscribers)
    return list(dict.fromkeys([*subscriptions_of(broker), *(g for g in others if g and g not in shared)]))


@dataclass(frozen=True)
class Replayed:
    """What replaying one dead letter came to."""

    applied: bool  # False: still poison (`error` says why), nothing applied
    error: str | None = None
    # To call once the caller's transaction has committed (the consumer's on_committed).
    then: Callable[[], None] | None = None


async def replay(conn: asyncpg.Connection, subscription: Subscription, row: asyncpg.Record) -> Replayed:
    """Apply one dead letter now, in the caller's transaction, as its consumer would have:
    decode, claim in the inbox, apply. No Kafka: a service writes only the topics it owns,
    and the record's topic is another's (the broker's ACLs refuse the rest). Its signature is
    not checked again: the dead letter keeps no headers, and every record was verified
    before it was set aside for any other reason (one set aside as forged is never replayed:
    the caller refuses those). An event the inbox already holds changes nothing."""
    record = ConsumerRecord(
        topic=row["topic"],
        partition=row["partition"],
        offset=row["offset"],
        timestamp=0,
        timestamp_type=0,
        key=row["key"].encode() if row["key"] is not None else None,
        value=bytes(row["value"]),
        checksum=None,
        serialized_key_size=-1,
        serialized_value_size=len(row["value"]),
        headers=[],
    )
    decoded = decode(record, subscription.wanted, subscription.consumer, keys=None)
    if isinstance(decoded, Poison):
        return Replayed(applied=False, error=decoded.error)
    if isinstance(decoded, Received):
        new_ids = await subscription.claim(conn, [decoded])
        if decoded.envelope.event_id in new_ids:
            bind_contextvars(correlation_id=decoded.envelope.correlation_id)
            result = await subscription.apply(conn, [decoded])
            told = subscription.on_committed
            if told is not None:
                return Replayed(applied=True, then=lambda: told([decoded], result))
    return Replayed(applied=True)


def subscribe(
    broker: KafkaBroker,
    pool_provider: Callable[[], asyncpg.Pool],
    *,
    topic: str,
    consumer: str,
    wanted: Sequence[str],
    apply: Apply,
    polling: Polling = Polling(),
    on_committed: OnCommitted | None = None,
    retry_pause_s: float = 1.0,
    claim: Claim | None = None,
) -> None:
    """Register one consumer in a group of its own (group id = consumer name)."""
    subscribe_group(
        broker,
        pool_provider,
        group=consumer,
        subscriptions=[consumes(topic, consumer, wanted, apply, on_committed=on_committed, claim=claim)],
        polling=polling,
        retry_pause_s=retry_pause_s,
    )


@dataclass
class _Part:
    """One subscription's share of a fetched batch."""

    subscription: Subscription
    records: list[ConsumerRecord]
    received: list[Received]
    poison: list[Poison]
    ignored: list[tuple[str, str]]  # (topic, type)


def subscribe_group(
    broker: KafkaBroker,
    pool_provider: Callable[[], asyncpg.Pool],
    *,
    group: str,
    subscriptions: Sequence[Subscription],
    polling: Polling = Polling(),
    retry_pause_s: float = 1.0,
) -> None:
    """Register one consumer group that fetches for several subscriptions (one service's).

    Why one group per service and not one per consumer: every group is a fetch loop the
    broker answers about ten times a second whether or not anything came (Tansu holds each
    empty fetch for its whole wait), an offset commit after each batch, and at a steady
    rate a transaction per batch. One group fetches every topic its subscriptions read,
    and applies a batch in ONE transaction: each subscription's poison set aside, then, in
    the order given, each one's events claimed (in its own inbox, under its own name) and
    the new ones applied. The offsets are committed after that commit. So a batch is all or
    nothing across its subscriptions, and a redelivery changes nothing in any of them.

    The order given is the order within a batch: a service that reads causes on one topic
    and their effects on another lists the causes first, so that what came together is
    applied causes first (across batches, the topics keep no order between them).

    Two subscriptions may read the same topic (each gets every record of it)."""
    if not subscriptions:
        raise ValueError(f"consumer group {group} has no subscription")
    consumers = [s.consumer for s in subscriptions]
    if len(set(consumers)) != len(consumers):
        raise ValueError(f"consumer group {group}: a consumer name is given twice ({consumers})")
    metrics = metrics_consumer.of(broker)
    keys = signing.keys_of(broker)
    strikes = Strikes()
    for s in subscriptions:
        _SUBSCRIPTIONS.setdefault(broker, {})[s.consumer] = s
    _GROUPS.setdefault(broker, {})[group] = tuple(subscriptions)
    topics_read = list(dict.fromkeys(s.topic for s in subscriptions))
    described = "; ".join(f"{s.consumer} applies {', '.join(sorted(s.wanted))} from {s.topic}" for s in subscriptions)

    commits = offset_commits(broker, group, polling)

    @without_idle_sleep(
        broker.subscriber(
            *topics_read,
            group_id=group,
            batch=True,
            max_records=polling.batch_max,
            auto_offset_reset="earliest",
            # The handler acks (commits, every so often) or nacks (rewinds) each batch itself.
            ack_policy=AckPolicy.MANUAL,
            **polling.options(),
            # faststream names each topic's channel `<title>:<topic>` when there are several, so
            # every channel is `<group>:<topic>`, as a group of one topic's is.
            title=group if len(topics_read) > 1 else f"{group}:{topics_read[0]}",
            # The AsyncAPI document cannot type a raw batch: say in words what it applies.
            description=f"{described}; other event types are skipped.",
            decoder=raw_batch,
        ),
        commits,
    )
    async def handle(body: Any, message: Any = Context("message")) -> None:
        # Any, so that fast_depends passes raw_batch's records through without a pydantic
        # pass over each of them. `message`, for the ack, costs a thread hand-off a batch
        # (raw_batch says why); handing it over as the body instead measured no better
        # (docs/performance.md, the eleventh session).
        await commits.handled(message, apply_records(body))

    async def apply_records(records: Sequence[ConsumerRecord]) -> None:
        parts: list[_Part] = []
        record_of: dict[int, ConsumerRecord] = {}  # a decoded event does not carry its record
        for s in subscriptions:
            own = [r for r in records if r.topic == s.topic]
            part = _Part(s, own, [], [], [])
            for r in own:
                d = decode(r, s.wanted, s.consumer, keys=keys)
                record_of[id(d)] = r
                if isinstance(d, Received):
                    part.received.append(d)
                elif isinstance(d, Poison):
                    part.poison.append(d)
                else:
                    part.ignored.append((r.topic, d.type))
            parts.append(part)
        starts = strikes.starts(records)
        committed: list[tuple[_Part, list[Received], Any]] = []
        failing: list[tuple[_Part, Poison]] = []  # events that failed alone, once the batch was split
        started = time.perf_counter()
        try:
            # A batch of events every subscription skips records nothing: no transaction.
            if any(p.received or p.poison for p in parts):
                if (tried := strikes.times(starts)) >= polling.max_attempts:
                    committed, failing = await _apply_one_by_one(pool_provider(), parts, record_of, tried)
                else:
                    committed = await _apply_batch(pool_provider(), parts)
        except Exception as exc:
            # Nothing of the failed transaction was committed: rewind and retry the whole
            # batch, after a pause so as not to spin. A transient failure (the database
            # restarting, a lost connection) is retried for as long as it lasts; any other
            # counts towards the split.
            is_transient = transient(exc)
            times = strikes.times(starts) if is_transient else strikes.failed(starts)
            log.warning(
                "batch failed, will be redelivered",
                consumer=group,
                records=len(records),
                error=repr(exc),
                transient=is_transient,
                failures=times,
                split_after=polling.max_attempts,
            )
            for part in parts:
                if part.records:
                    metrics.failed(part.subscription.consumer)
            await asyncio.sleep(retry_pause_s)
            raise
        took = time.perf_counter() - started
        for part in parts:
            if not part.records:
                continue
            s = part.subscription
            set_aside = {id(p.record) for owner, p in failing if owner is part}
            metrics.batch_took(s.consumer, took)
            fresh = [r for owner, applied, _ in committed if owner is part for r in applied]
            _count(
                metrics,
                s.consumer,
                [(r, record_of[id(r)].topic) for r in part.received if id(record_of[id(r)]) not in set_aside],
                fresh,
                part.ignored,
                [*part.poison, *(p for owner, p in failing if owner is part)],
            )
        for owner, applied, result in committed:
            told = owner.subscription.on_committed
            if told is not None and applied:
                told(applied, result)
        for owner, bad in [*((part, bad) for part in parts for bad in part.poison), *failing]:
            consumer = owner.subscription.consumer
            if bad.forged is not None:
                metrics.forged(consumer, bad.record.topic, bad.forged)
            log.error(
                "forged event dead-lettered" if bad.forged is not None else "poison message dead-lettered",
                consumer=consumer,
                topic=bad.record.topic,
                partition=bad.record.partition,
                offset=bad.record.offset,
                error=bad.error,
            )
            await broker.publish(
                bad.record.value or b"",
                topic=topics.dead_letter(consumer),
                key=bad.record.key,
                headers={
                    "error": bad.error[:1000],
                    "source-topic": bad.record.topic,
                    "source-partition": str(bad.record.partition),
                    "source-offset": str(bad.record.offset),
                },
            )
        strikes.cleared(starts)  # only now: a failed publish redelivers the batch, split again


async def _apply_batch(pool: asyncpg.Pool, parts: Sequence[_Part]) -> list[tuple[_Part, list[Received], Any]]:
    """In ONE transaction: set every subscription's poison aside, then for each in order
    claim its events (in its inbox, or its own record) and apply the new ones. Returns, per
    subscription, those and what its `apply` returned."""
    done: list[tuple[_Part, list[Received], Any]] = []
    async with pool.acquire() as conn, conn.transaction():
        for part in parts:
            if part.poison:
                await _set_aside(conn, part.subscription.consumer, part.poison)
        for part in parts:
            s, result = part.subscription, None
            new_ids = await s.claim(conn, part.received) if part.received else set()
            fresh = [r for r in part.received if r.envelope.event_id in new_ids]
            fresh = list({r.envelope.event_id: r for r in fresh}.values())
            if fresh:
                bind_contextvars(correlation_id=fresh[-1].envelope.correlation_id)
                result = await s.apply(conn, fresh)
            done.append((part, fresh, result))
    return done


async def _apply_one_by_one(
    pool: asyncpg.Pool,
    parts: Sequence[_Part],
    record_of: dict[int, ConsumerRecord],
    tried: int,
) -> tuple[list[tuple[_Part, list[Received], Any]], list[tuple[_Part, Poison]]]:
    """A batch that failed `tried` times: each event in its own transaction, in order, so
    the healthy ones are applied and one that still fails alone is set aside with its
    error. A transient failure still raises: the batch is redelivered and split again, and
    the inbox makes what was applied already change nothing. Returns what committed (as
    `_apply_batch` does, per event) and the events set aside."""
    committed: list[tuple[_Part, list[Received], Any]] = []
    if any(p.poison for p in parts):
        await _apply_batch(pool, [_Part(p.subscription, p.records, [], p.poison, []) for p in parts if p.poison])
    failing: list[tuple[_Part, Poison]] = []
    for part in parts:
        for event in part.received:
            alone = _Part(part.subscription, part.records, [event], [], [])
            try:
                [(_, applied, result)] = await _apply_batch(pool, [alone])
                committed.append((part, applied, result))
            except Exception as exc:
                if transient(exc):
                    raise
                failed = Poison(
                    record_of[id(event)],
                    f"failed {tried} times in its batch, then alone: {type(exc).__name__}: {exc}"[:4000],
                    event.envelope.type,
                )
                async with pool.acquire() as conn, conn.transaction():
                    await _set_aside(conn, part.subscription.consumer, [failed])
                failing.append((part, failed))
    return committed, failing


def _count(
    metrics: metrics_consumer.ConsumerMetrics,
    consumer: str,
    received: Sequence[tuple[Received, str]],
    fresh: Sequence[Received],
    ignored: Sequence[tuple[str, str]],
    poison: Sequence[Poison],
) -> None:
    """Count a committed batch: a record the inbox already held (or met twice in this
    batch) is a duplicate, so redeliveries never inflate `applied`; a consumer with no
    record (`idempotent_effect`) counts a redelivery as applied, and its effect says what
    changed. `received`: each received event with its record's topic."""
    applied = {id(r) for r in fresh}
    topic_of = {id(r): topic for r, topic in received}
    for outcome, pairs in (
        ("applied", [(topic_of[id(r)], r.envelope.type) for r in fresh]),
        ("duplicate", [(topic, r.envelope.type) for r, topic in received if id(r) not in applied]),
        ("ignored", ignored),
        ("dead_lettered", [(p.record.topic, p.type) for p in poison]),
    ):
        metrics.consumed(consumer, metrics_consumer.tally(outcome, pairs))


async def _set_aside(conn: asyncpg.Connection, consumer: str, poison: Sequence[Poison]) -> None:
    await conn.executemany(
        'INSERT INTO dead_letters (consumer, topic, partition, "offset", key, value, error)'
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        [
            (
                consumer,
                p.record.topic,
                p.record.partition,
                p.record.offset,
                p.record.key.decode(errors="replace") if p.record.key else None,
                p.record.value or b"",
                p.error,
            )
            for p in poison
        ],
    )
