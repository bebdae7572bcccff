"""Topics as the services create them on a real broker: partitions, copies and retention
from the settings, dead-letter topics kept longer, and an existing topic left alone."""

import asyncio
import os
import socket
import subprocess
import sys

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from regia_shared.contracts import topics
from regia_shared.messaging.kafka import TopicPolicy, ensure_topics

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


def run_create_topics(bootstrap: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "REGIA_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "REGIA_KAFKA_PARTITIONS": "2",
        "REGIA_KAFKA_RETENTION_HOURS": "24",
    }
    return subprocess.run(
        [sys.executable, "-m", "regia_shared.messaging.create_topics"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_one_shot_job_creates_every_topic(broker) -> None:  # type: ignore[no-untyped-def]
    done = await asyncio.to_thread(run_create_topics, broker.bootstrap_servers)
    assert done.returncode == 0, done.stderr
    seen = await described(broker.bootstrap_servers, list(topics.ALL))
    assert {t: s["partitions"] for t, s in seen.items()} == {t: 2 for t in topics.ALL}
    assert all(s["configs"].get("retention.ms") == str(24 * 3_600_000) for s in seen.values())


async def test_the_one_shot_job_says_which_broker_it_could_not_reach() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = await asyncio.to_thread(run_create_topics, f"127.0.0.1:{port}")
    assert done.returncode == 1
    assert f"could not create the topics on 127.0.0.1:{port}" in done.stderr


def test_the_one_shot_job_refuses_a_bad_setting_before_touching_the_broker() -> None:
    env = {**os.environ, "REGIA_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "REGIA_KAFKA_PARTITIONS": "six"}
    done = subprocess.run(
        [sys.executable, "-m", "regia_shared.messaging.create_topics"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "invalid settings" in done.stderr and "kafka_partitions" in done.stderr
    assert "Traceback" not in done.stderr
