"""Batcher: items handed in together are done together; each caller hears its own fate."""

import asyncio
from collections.abc import Sequence

import pytest

from regia_shared.messaging.batching import Batcher


def test_an_item_alone_goes_at_once_and_those_arriving_meanwhile_form_the_next_group() -> None:
    groups: list[list[int]] = []

    async def scenario() -> None:
        release = asyncio.Event()

        async def do_all(items: Sequence[int]) -> None:
            groups.append(list(items))
            if len(groups) == 1:
                await release.wait()  # the first group is slow: the others pile up

        batcher: Batcher[int] = Batcher(do_all, max_group=3)
        first = asyncio.create_task(batcher.submit(0))
        await asyncio.sleep(0)
        rest = [asyncio.create_task(batcher.submit(n)) for n in range(1, 6)]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(first, *rest)

    asyncio.run(scenario())
    assert groups == [[0], [1, 2, 3], [4, 5]]


def test_a_failed_group_fails_each_of_its_callers_and_not_the_next_group() -> None:
    async def scenario() -> list[object]:
        calls = 0

        async def do_all(items: Sequence[str]) -> None:
            nonlocal calls
            calls += 1
            if "bad" in items:
                raise ConnectionError("database away")

        batcher: Batcher[str] = Batcher(do_all)
        together = await asyncio.gather(batcher.submit("bad"), batcher.submit("ok"), return_exceptions=True)
        after = await asyncio.gather(batcher.submit("later"), return_exceptions=True)
        return [*together, *after]

    first, second, later = asyncio.run(scenario())
    assert isinstance(first, ConnectionError) and isinstance(second, ConnectionError)
    assert later is None


def test_the_group_size_is_bounded() -> None:
    with pytest.raises(ValueError):
        Batcher(lambda items: asyncio.sleep(0), max_group=0)
