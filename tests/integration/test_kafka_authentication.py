"""A broker that demands a login refuses Regia's clients that bring none, or bring a user it
does not know; the same clients reach a broker that demands none. Against the embedded
broker (Tansu) with its SASL/SCRAM authentication on: it is the one broker the tests run.
It cannot serve TLS nor hold a user while authentication is on (regia.local.embedded.broker),
so the accepted SASL_SSL login is checked by the unit tests (the aiokafka arguments) and by
docker-compose.yml's Apache Kafka, not here."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from regia.local.embedded.broker import EmbeddedBroker
from regia.local.embedded.process import free_port
from regia_shared.contracts import topics
from regia_shared.messaging.kafka import OutboxProducer, ensure_topics
from regia_shared.messaging.outbox import OutboxRow
from regia_shared.messaging.security import PLAINTEXT


@pytest.fixture
def locked_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    server = EmbeddedBroker(free_port(), tmp_path / "logs", authentication=True).start()
    yield server
    server.stop()


def row() -> OutboxRow:
    return OutboxRow(
        id=1,
        topic=topics.FUNDING,
        key="line-1",
        body='{"type": "FundingCommitted"}',
        correlation_id="c-1",
        type="FundingCommitted",
    )


async def test_a_client_without_credentials_is_refused(locked_broker: EmbeddedBroker) -> None:
    producer = OutboxProducer(
        locked_broker.bootstrap_servers, idempotence=False, sign=lambda topic, key, value: [], security=PLAINTEXT
    )
    with pytest.raises(KafkaConnectionError):
        await producer.start()
    await producer.stop()
    with pytest.raises(KafkaConnectionError):
        await ensure_topics(locked_broker.bootstrap_servers, [topics.FUNDING], 1)


async def test_a_login_the_broker_does_not_know_is_refused(locked_broker: EmbeddedBroker) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=locked_broker.bootstrap_servers,
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username="institution-nobody",
        sasl_plain_password="not-a-password",
        request_timeout_ms=5000,
    )
    # Refused in the SCRAM exchange; aiokafka reports Tansu's refusal in more than one way.
    with pytest.raises(Exception):  # noqa: B017 - any refusal, as long as it never connects
        await producer.start()
    await producer.stop()


async def test_the_same_clients_reach_a_broker_that_demands_no_login(broker: EmbeddedBroker) -> None:
    # The control: what the two tests above refuse is the login, not the client.
    await ensure_topics(broker.bootstrap_servers, [topics.FUNDING], 1)
    producer = OutboxProducer(
        broker.bootstrap_servers, idempotence=False, sign=lambda topic, key, value: [], security=PLAINTEXT
    )
    await producer.start()
    try:
        await producer.publish([row()])
    finally:
        await producer.stop()
