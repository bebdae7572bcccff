"""Where an upgraded consumer group starts (`group_offsets.carried`), and what a service
says when it cannot read its earlier groups' offsets (the broker's ACLs)."""

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import GroupAuthorizationFailedError

from regia_partners.app import create_app as partners_app
from regia_shared.messaging import group_offsets
from regia_shared.messaging.group_offsets import carried

T0, T1, T2 = (TopicPartition("t", p) for p in range(3))


def test_the_least_of_the_earlier_groups_where_every_one_committed() -> None:
    assert carried([T0, T1, T2], {}, [{T0: 5, T1: 4}, {T0: 3, T1: 9, T2: 2}]) == {T0: 3, T1: 4}


def test_a_partition_the_group_committed_on_is_left() -> None:
    assert carried([T0, T1], {T0: 1, T1: -1}, [{T0: 5, T1: 4}]) == {T1: 4}


def test_nothing_without_earlier_groups() -> None:
    assert carried([T0], {}, []) == {}


async def test_a_service_that_may_not_read_its_earlier_groups_says_so(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def refused(*_: object, **__: object) -> dict:
        raise GroupAuthorizationFailedError()

    monkeypatch.setattr(group_offsets, "carry_over", refused)
    runtime = partners_app().state.runtime
    with pytest.raises(RuntimeError) as raised:
        await runtime._carry_offsets_over()
    message = str(raised.value)
    assert "partners.objectives, partners.plans" in message and "group partners" in message
    assert "deploy/kafka/acls.txt" in message
