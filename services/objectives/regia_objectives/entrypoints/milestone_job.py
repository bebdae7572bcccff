"""The overdue-milestones background job: on start, then every
REGIA_MILESTONE_SWEEP_S seconds, announce the milestones gone overdue
(service_layer.overdue_milestones). Several replicas may run it: each claims its rows with
SKIP LOCKED, so a due date is announced once whoever sweeps."""

import asyncio
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any

from regia_shared.observability.logs import get_logger
from regia_shared.runtime import ServiceRuntime

from ..service_layer.overdue_milestones import announce_overdue_milestones

log = get_logger(__name__)


def milestone_job(today: Callable[[], date], every_s: float) -> Callable[[ServiceRuntime], Coroutine[Any, Any, None]]:
    """`today`: the service's clock, read at each round (injected, so tests move it)."""

    async def overdue_milestones(runtime: ServiceRuntime) -> None:
        while True:
            try:
                announced = await announce_overdue_milestones(runtime.pool, today())
                if announced:
                    log.info("overdue milestones announced", milestones=announced)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: try again at the next round
                log.warning("overdue milestones round failed", error=repr(exc))
            await asyncio.sleep(every_s)

    return overdue_milestones
