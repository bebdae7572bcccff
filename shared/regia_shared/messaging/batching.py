"""Work that callers hand in one item at a time, done for many items at once.

Each caller awaits its own item. While one group is being done, the items that arrive
wait and form the next group, so an item alone goes at once (no timer, no added wait)
and under load each group holds everything that arrived during the previous one. What
is shared is the cost per group: one statement and one round trip for any number of
rows, where one per row was most of the work.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")

DoAll = Callable[[Sequence[Item]], Awaitable[None]]


class Batcher(Generic[Item]):
    def __init__(self, do_all: DoAll[Item], *, max_group: int = 500, name: str = "batcher") -> None:
        if max_group < 1:
            raise ValueError("a group holds at least one item")
        self._do_all, self._max_group, self._name = do_all, max_group, name
        self._waiting: list[tuple[Item, asyncio.Future[None]]] = []
        self._worker: asyncio.Task | None = None

    async def submit(self, item: Item) -> None:
        """Done with whatever else is waiting; raises what doing the group raised."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name=self._name)
        await future

    async def _drain(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[: self._max_group], self._waiting[self._max_group :]
            try:
                await self._do_all([item for item, _ in group])
            except Exception as exc:  # the group failed: so does every item in it
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in group:
                if not future.done():  # a caller cancelled meanwhile: done all the same
                    future.set_result(None)
