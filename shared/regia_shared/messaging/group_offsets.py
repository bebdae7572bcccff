"""A consumer group that takes over from the groups of an earlier release starts where they
had got to.

Guarantees, stated first:
- A partition the new group has committed on is never touched: what ran is not rewound.
- A partition every earlier group had committed on starts at the least of their offsets:
  no event any of them had not applied is skipped. What the others had applied already
  comes again and is a duplicate their inboxes (kept, by consumer name) ignore.
- A partition one of them had never committed on is left uncommitted, so the group reads
  it from the earliest offset the topic holds, as that earlier group would have.
- Safe to run at every start and on every replica at once: a replica that finds the new
  group already committed on a partition leaves it. If two replicas carry the same
  partition together, both write the same offset, and a broker that refuses the write
  because the group is already live (Apache Kafka does, for a group with members) means
  another replica has carried it and is consuming: that is logged and left.

Why it exists: releases up to 2026-12 ran one consumer group per consumer (its name the
group id); each service now runs one group for all its consumers
(`consumer.subscribe_group`), and a new group id has no committed offsets. Starting it
from the earliest offset would apply nothing twice (the inboxes) but would read every
topic's whole retention again on upgrade. Kafka's admin API has no "copy a group's
offsets", so the offsets are read with the admin client and committed by a group-less
member (generation -1), which Kafka and Tansu accept for a group with no live member.
"""

from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from regia_shared.messaging.security import PLAINTEXT, KafkaSecurity
from regia_shared.observability.logs import get_logger

log = get_logger(__name__)


def carried(
    partitions: Sequence[TopicPartition],
    own: Mapping[TopicPartition, int],
    earlier: Sequence[Mapping[TopicPartition, int]],
) -> dict[TopicPartition, int]:
    """The offsets to commit for the new group: for each partition it has no commit on
    (`own`) and every earlier group has one on, the least of theirs. A negative offset is
    no commit (the admin client's -1)."""
    out: dict[TopicPartition, int] = {}
    for tp in partitions:
        if own.get(tp, -1) >= 0:
            continue
        theirs = [group.get(tp, -1) for group in earlier]
        if theirs and min(theirs) >= 0:
            out[tp] = min(theirs)
    return out


async def carry_over(
    bootstrap: str,
    group: str,
    earlier_by_topic: Mapping[str, Sequence[str]],
    security: KafkaSecurity = PLAINTEXT,
) -> dict[TopicPartition, int]:
    """Commit for `group` the offsets its earlier groups had reached (`earlier_by_topic`:
    for each topic it reads, the groups that read it before). Returns what was committed."""
    secured = security.client_kwargs()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"regia-{group}-carry-over", **secured)
    await admin.start()
    try:
        topics = [t for t, groups in earlier_by_topic.items() if groups]
        if not topics:
            return {}
        described = await admin.describe_topics(topics)
        partitions = sorted(
            (TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]),
            key=lambda tp: (tp.topic, tp.partition),
        )
        own = await _committed(admin, group, partitions)
        if all(own.get(tp, -1) >= 0 for tp in partitions):
            return {}  # the usual start: the group has run
        wanted: dict[TopicPartition, int] = {}
        for topic in topics:
            on_topic = [tp for tp in partitions if tp.topic == topic]
            earlier = [await _committed(admin, g, on_topic) for g in earlier_by_topic[topic]]
            wanted.update(carried(on_topic, own, earlier))
    finally:
        await admin.close()
    if not wanted:
        return {}
    writer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=f"regia-{group}-carry-over",
        group_id=group,
        enable_auto_commit=False,
        **secured,
    )
    await writer.start()
    try:
        writer.assign(list(wanted))
        await writer.commit(wanted)
    except KafkaError as exc:
        log.warning("consumer group offsets not carried over: the group is live", group=group, error=repr(exc))
        return {}
    finally:
        await writer.stop()
    log.info(
        "consumer group offsets carried over from the earlier groups",
        group=group,
        partitions={f"{tp.topic}/{tp.partition}": o for tp, o in wanted.items()},
    )
    return wanted


async def _committed(
    admin: AIOKafkaAdminClient, group: str, partitions: Sequence[TopicPartition]
) -> dict[TopicPartition, int]:
    if not partitions:
        return {}
    found = await admin.list_consumer_group_offsets(group, partitions=list(partitions))
    return {tp: meta.offset for tp, meta in found.items()}
