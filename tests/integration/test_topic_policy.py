"""Topics as the services create them on a real broker: partitions, copies and retention
from the settings, dead-letter topics kept longer, and an existing topic left alone."""

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from regia_shared.kafka import TopicPolicy, ensure_topics

EVENTS = "regia.policytest.v1"
DEAD = "regia.dlq.policytest.v1"


async def described(bootstrap: str, topics: list[str]) -> dict[str, dict]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        partitions = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(topics)}
        answers = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in topics])
        configs: dict[str, dict[str, str]] = {}
        for answer in answers:
            for resource in answer.resources:
                _code, _msg, _type, name, entries = resource[:5]
                configs[name] = {e[0]: e[1] for e in entries}
        return {t: {"partitions": partitions[t], "configs": configs.get(t, {})} for t in topics}
    finally:
        await admin.close()


async def test_created_with_the_policy_and_existing_topics_left_alone(broker) -> None:  # type: ignore[no-untyped-def]
    policy = TopicPolicy(partitions=4, retention_hours=48, dead_letter_retention_hours=720)
    await ensure_topics(broker.bootstrap_servers, [EVENTS, DEAD], policy)
    seen = await described(broker.bootstrap_servers, [EVENTS, DEAD])
    assert seen[EVENTS]["partitions"] == 4
    assert seen[EVENTS]["configs"].get("retention.ms") == str(48 * 3_600_000)
    assert seen[DEAD]["configs"].get("retention.ms") == str(720 * 3_600_000)

    # A second start with other settings changes nothing: repartitioning is an operator's act.
    await ensure_topics(broker.bootstrap_servers, [EVENTS], TopicPolicy(partitions=8, retention_hours=1))
    again = await described(broker.bootstrap_servers, [EVENTS])
    assert again[EVENTS]["partitions"] == 4
    assert again[EVENTS]["configs"].get("retention.ms") == str(48 * 3_600_000)
