"""Which failures a consumer retries for ever (the infrastructure) and which count towards
splitting a batch (the events), and how a batch is recognised when it comes back."""

from types import SimpleNamespace

import asyncpg
from aiokafka.errors import KafkaConnectionError
from pydantic import BaseModel, ValidationError

from regia_shared.messaging.consumer import Polling, Strikes, transient
from regia_shared.settings import ServiceSettings


def test_the_infrastructure_is_transient() -> None:
    for exc in (
        ConnectionRefusedError(),
        OSError(),
        TimeoutError(),
        TimeoutError(),
        asyncpg.exceptions.CannotConnectNowError("starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating"),
        asyncpg.exceptions.ConnectionDoesNotExistError("closed"),
        asyncpg.InterfaceError("pool is closing"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock"),
        asyncpg.exceptions.SerializationError("serialization"),
        asyncpg.exceptions.TooManyConnectionsError("too many"),
        KafkaConnectionError(),
    ):
        assert transient(exc), exc
    wrapped = RuntimeError("while applying")
    wrapped.__cause__ = ConnectionResetError()
    assert transient(wrapped)


def test_what_the_events_cause_is_not() -> None:
    class Model(BaseModel):
        n: int

    try:
        Model(n="x")  # type: ignore[arg-type]
    except ValidationError as exc:
        invalid = exc
    for exc in (
        asyncpg.exceptions.DataError("value out of int32 range"),
        asyncpg.exceptions.NumericValueOutOfRangeError("integer out of range"),
        asyncpg.exceptions.UniqueViolationError("duplicate"),
        asyncpg.exceptions.RaiseError("a closed review is frozen"),
        invalid,
        AssertionError(),
        KeyError("x"),
        ValueError(),
    ):
        assert not transient(exc), exc


def record(partition: int, offset: int, topic: str = "t") -> SimpleNamespace:
    return SimpleNamespace(topic=topic, partition=partition, offset=offset)


def test_a_batch_is_recognised_by_where_it_starts_on_each_partition() -> None:
    strikes = Strikes()
    batch = [record(0, 10), record(0, 11), record(1, 4)]
    starts = strikes.starts(batch)  # type: ignore[arg-type]
    assert starts == {("t", 0): 10, ("t", 1): 4}
    assert strikes.failed(starts) == 1 and strikes.failed(starts) == 2
    # Redelivered with more records behind: the same batch.
    assert strikes.times(strikes.starts([*batch, record(0, 12)])) == 2  # type: ignore[arg-type]
    # One partition moved on (committed elsewhere): the other still counts.
    assert strikes.times({("t", 0): 12, ("t", 1): 4}) == 2
    assert strikes.failed({("t", 0): 12}) == 1, "a batch starting elsewhere starts again at 1"
    strikes.cleared(starts)
    assert strikes.times(starts) == 0


def test_the_bound_is_a_setting() -> None:
    assert Polling().max_attempts == 5 == Polling.of(ServiceSettings()).max_attempts
    assert Polling.of(ServiceSettings(consumer_max_attempts=2)).max_attempts == 2
    assert "max_attempts" not in Polling().options(), "not a faststream subscriber option"
