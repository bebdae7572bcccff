"""What the shared batch consumer tells Prometheus: every record by outcome, how long a
batch takes to apply and commit, and the batches rolled back and retried.

The consumer finds its service's metrics through the broker it subscribes on (the
runtime registers them), so services keep calling `consumer.subscribe` as before. Label
values are bounded: consumers and topics are fixed in code, and an event type is kept
only when it is one of the contract's, anything else is "unknown".
"""

import weakref
from collections import Counter as Tally
from collections.abc import Iterable

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter, Histogram

from regia_shared.contracts.events.registry import EVENT_TYPES

OUTCOMES = ("applied", "duplicate", "ignored", "dead_lettered")
UNKNOWN = "unknown"


def type_label(event_type: str | None) -> str:
    """The event type as a label value: a producer could write any string there."""
    return event_type if event_type in EVENT_TYPES else UNKNOWN


def tally(outcome: str, records: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str, str], int]:
    """(topic, type, outcome) → how many, from (topic, event type) pairs."""
    assert outcome in OUTCOMES, outcome
    counted = Tally((topic, type_label(t), outcome) for topic, t in records)
    return dict(counted)


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.service = service
        self.registry = registry
        self._consumed = Counter(
            "regia_events_consumed_total",
            "Records consumed, by event type and outcome",
            ["service", "consumer", "topic", "type", "outcome"],
            registry=registry,
        )
        self._duration = Histogram(
            "regia_consumer_batch_duration_seconds",
            "Time to apply and commit one batch",
            ["service", "consumer"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self._forged = Counter(
            "regia_events_forged_total",
            "Records of a signed topic refused and dead-lettered as not its owner's: "
            "unsigned, malformed, unknown_key (not one of the owner's keys) or mismatch",
            ["service", "consumer", "topic", "reason"],
            registry=registry,
        )
        self._commits = Counter(
            "regia_consumer_offset_commits_total",
            "Offset commits a consumer group sent (at most one every REGIA_KAFKA_COMMIT_INTERVAL_MS), "
            "by outcome: committed, or failed (the offsets stay pending and are sent again)",
            ["service", "consumer", "outcome"],
            registry=registry,
        )
        self._failures = Counter(
            "regia_consumer_failures_total",
            "Batches rolled back by a transient error and retried",
            ["service", "consumer"],
            registry=registry,
        )

    def offset_commit(self, group: str, outcome: str) -> None:
        """An offset commit sent by a consumer group: committed, or failed (and kept)."""
        self._commits.labels(self.service, group, outcome).inc()

    def forged(self, consumer: str, topic: str, reason: str) -> None:
        """A record refused because it is not its topic owner's (signing.Forged.reason)."""
        self._forged.labels(self.service, consumer, topic, reason).inc()

    def consumed(self, consumer: str, counts: dict[tuple[str, str, str], int]) -> None:
        for (topic, event_type, outcome), n in counts.items():
            self._consumed.labels(self.service, consumer, topic, event_type, outcome).inc(n)

    def batch_took(self, consumer: str, seconds: float) -> None:
        self._duration.labels(self.service, consumer).observe(seconds)

    def failed(self, consumer: str) -> None:
        self._failures.labels(self.service, consumer).inc()


_BY_BROKER: "weakref.WeakKeyDictionary[KafkaBroker, ConsumerMetrics]" = weakref.WeakKeyDictionary()


def register(broker: KafkaBroker, metrics: ConsumerMetrics) -> None:
    _BY_BROKER[broker] = metrics


def of(broker: KafkaBroker) -> ConsumerMetrics:
    """The metrics of the broker's service; a throw-away set for a bare broker (a tool, a test)."""
    found = _BY_BROKER.get(broker)
    if found is None:
        found = _BY_BROKER[broker] = ConsumerMetrics(CollectorRegistry(), UNKNOWN)
    return found
