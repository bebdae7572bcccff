"""Upgrading to one consumer group per service: the new group starts where the earlier
release's groups (one per consumer, of its name) had got to, never earlier than the least
of them and never skipping what one of them had not applied; a group that has run is left
alone. Against the embedded broker (Tansu) over TCP and the service's own database."""

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from regia_partners.app import create_app as partners_app
from regia_shared.contracts import topics
from regia_shared.messaging.group_offsets import carry_over
from regia_shared.messaging.kafka import ensure_topics

from ..support.infra import Database
from ..support.kafka import publish
from ..support.partners import objective_defined
from ..support.services import in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")
KEY = b"upgrade"  # one key: every record on one partition


async def commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit offsets for `group` as a member of an earlier release would have."""
    member = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await member.start()
    try:
        member.assign(list(offsets))
        await member.commit(offsets)
    finally:
        await member.stop()


async def committed(bootstrap: str, group: str, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group, partitions=partitions)
    finally:
        await admin.close()
    return {tp: found[tp].offset for tp in partitions if tp in found}


async def test_the_new_group_starts_at_the_least_of_the_earlier_groups(broker) -> None:  # type: ignore[no-untyped-def]
    bs, topic = broker.bootstrap_servers, "regia.test.upgrade.v1"
    await ensure_topics(bs, [topic], 2)
    await publish(bs, topic, [b"p%d" % i for i in range(8)], key=b"a", signed_as=None)
    await publish(bs, topic, [b"q%d" % i for i in range(8)], key=b"b", signed_as=None)
    p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
    await commit(bs, "svc.a", {p0: 3, p1: 4})
    await commit(bs, "svc.b", {p0: 5})  # never committed on p1: it would read p1 from the start

    assert await carry_over(bs, "svc", {topic: ["svc.a", "svc.b"]}) == {p0: 3}
    assert await committed(bs, "svc", [p0, p1]) == {p0: 3, p1: -1}

    # The group runs and moves on: a later start touches nothing it has committed.
    await commit(bs, "svc", {p0: 7})
    await commit(bs, "svc.b", {p1: 6})
    assert await carry_over(bs, "svc", {topic: ["svc.a", "svc.b"]}) == {p1: 4}
    assert await committed(bs, "svc", [p0, p1]) == {p0: 7, p1: 4}
    assert await carry_over(bs, "svc", {topic: ["svc.a", "svc.b"]}) == {}


async def test_an_upgraded_service_applies_only_what_its_earlier_consumers_had_not(broker, database: Database) -> None:  # type: ignore[no-untyped-def]
    """The partners service's two consumers of the objectives topic were two groups. The
    earlier release had applied four definitions in one and five in the other; the
    upgraded service applies the fifth and sixth (the fifth again for one of them, which
    its inbox would ignore) and not the first four."""
    bs = broker.bootstrap_servers
    defined = [objective_defined(f"upgrade-{i}") for i in range(6)]
    await publish(bs, topics.OBJECTIVES, [e.to_json() for e in defined], key=KEY)
    partitions = [TopicPartition(topics.OBJECTIVES, p) for p in range(3)]  # ensure_topics' 3
    used = partitions[DefaultPartitioner()(KEY, [0, 1, 2], [0, 1, 2])]
    others = {tp: 0 for tp in partitions if tp != used}
    await commit(bs, "partners.objectives", {used: 4, **others})
    await commit(bs, "partners.plans", {used: 5, **others})

    async with in_process("partners", partners_app):

        async def known() -> list[str]:
            rows = await database.fetch(
                "partners", "SELECT objective_id FROM known_objectives WHERE objective_id LIKE 'upgrade-%'"
            )
            return sorted(r["objective_id"] for r in rows)

        await eventually(lambda: _equals(known(), ["upgrade-4", "upgrade-5"]), what="the last two definitions")
        # Offsets trail what is applied by up to the commit interval (offset_commits).
        await eventually(lambda: _equals(committed(bs, "partners", [used]), {used: 6}), what="the offsets committed")
        applied = await database.fetchval(
            "partners", "SELECT count(*) FROM inbox WHERE consumer = 'partners.objectives'"
        )
        assert applied == 2


async def _equals(value, expected) -> bool:  # type: ignore[no-untyped-def]
    return await value == expected
