"""TopicPolicy: what the services' settings make of a topic's broker-side configuration."""

from regia_shared.messaging.kafka import TopicPolicy
from regia_shared.settings import ServiceSettings


def test_event_and_dead_letter_topics_are_kept_for_their_own_time() -> None:
    policy = TopicPolicy(partitions=6, retention_hours=168, dead_letter_retention_hours=720)
    assert policy.configs("regia.funding.v1") == {"retention.ms": "604800000"}
    assert policy.configs("regia.dlq.objectives.funding.v1") == {"retention.ms": "2592000000"}


def test_replicated_topics_need_two_copies_for_a_write() -> None:
    assert TopicPolicy(replication_factor=3).configs("regia.funding.v1") == {"min.insync.replicas": "2"}
    assert TopicPolicy(replication_factor=1).configs("regia.funding.v1") == {}


def test_read_from_the_settings(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name, value in {
        "REGIA_KAFKA_PARTITIONS": "12",
        "REGIA_KAFKA_REPLICATION_FACTOR": "3",
        "REGIA_KAFKA_RETENTION_HOURS": "72",
        "REGIA_KAFKA_DEAD_LETTER_RETENTION_HOURS": "2160",
    }.items():
        monkeypatch.setenv(name, value)
    assert TopicPolicy.of(ServiceSettings()) == TopicPolicy(12, 3, 72, 2160)
