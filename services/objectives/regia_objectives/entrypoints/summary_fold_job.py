"""The summary's slots folded back: every REGIA_SUMMARY_FOLD_S seconds, the figures that
concurrent writers kept in slots of their own (objectives migrations 0014 and 0015) are
added into one row per key (`summary_slots_fold()`, migration 0016), so the summary's
reads stay a few rows per plan and year however long the service runs. What a reader sums
is the same before and after; several replicas may run it (each fold takes what is there)."""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from regia_shared.observability.logs import get_logger
from regia_shared.runtime import ServiceRuntime

from ..adapters import summary_slots

log = get_logger(__name__)


def summary_fold_job(every_s: float) -> Callable[[ServiceRuntime], Coroutine[Any, Any, None]]:
    async def fold_summary_slots(runtime: ServiceRuntime) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                async with runtime.pool.acquire() as conn:
                    folded = await summary_slots.fold(conn)
                if folded:
                    log.info("summary slots folded", rows=folded)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database away, a deadlock broken: the next round folds
                log.warning("summary slots fold failed", error=repr(exc))

    return fold_summary_slots
