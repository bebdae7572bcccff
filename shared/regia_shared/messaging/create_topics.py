"""`python -m regia_shared.messaging.create_topics`: create Regia's topics on the configured broker
before any service starts, laid out by the REGIA_KAFKA_* settings (TopicPolicy).

The services create what they use at start-up too; this one-shot step exists so that a
deployment's topics come from one place, in one go, before consumers join their groups
(docker-compose's `topics` job, `regia topics`; on Kubernetes the services create them).
Dead-letter topics are left to the services: their names follow their consumer groups.
"""

import asyncio
import logging
import sys

from pydantic import ValidationError

from regia_shared.contracts import topics
from regia_shared.messaging.kafka import TopicPolicy, ensure_topics
from regia_shared.messaging.security import KafkaSecurity, KafkaSecurityError
from regia_shared.settings import ServiceSettings


def create(settings: ServiceSettings, timeout_s: float = 60.0) -> TopicPolicy:
    policy = TopicPolicy.of(settings)
    security = KafkaSecurity.of(settings)
    asyncio.run(
        asyncio.wait_for(ensure_topics(settings.kafka_bootstrap_servers, topics.ALL, policy, security), timeout_s)
    )
    return policy


def main() -> int:
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the failure is reported below, once
    try:
        settings = ServiceSettings()
    except ValidationError as exc:  # e.g. REGIA_KAFKA_PARTITIONS=six: nothing is created
        print(f"error: invalid settings: {exc}", file=sys.stderr)
        return 2
    try:
        KafkaSecurity.of(settings)
    except KafkaSecurityError as exc:  # SASL_SSL without a user, password or CA file
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bootstrap = settings.kafka_bootstrap_servers
    try:
        policy = create(settings)
    except Exception as exc:
        print(
            f"error: could not create the topics on {bootstrap}: {str(exc) or type(exc).__name__} "
            "(is the broker running? set REGIA_KAFKA_BOOTSTRAP_SERVERS)",
            file=sys.stderr,
        )
        return 1
    for name in topics.ALL:
        print(
            f"{name}  ({policy.partitions} partitions, {policy.replication_factor} copies, "
            f"kept {policy.retention_hours} h, if created now)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
