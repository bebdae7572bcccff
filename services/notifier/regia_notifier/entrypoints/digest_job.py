"""The digest background job: every few seconds, the digests that are due become
deliveries. Several replicas may run it: waiting alerts are claimed with SKIP LOCKED."""

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from regia_shared.observability.logs import get_logger
from regia_shared.runtime import ServiceRuntime

from ..config import notifier_settings
from ..service_layer.digest_sending import send_digests

log = get_logger(__name__)


def digest_job() -> Callable[[ServiceRuntime], Coroutine[Any, Any, None]]:
    async def digests(runtime: ServiceRuntime) -> None:
        settings = notifier_settings(runtime.settings)
        while True:
            try:
                planned = await send_digests(
                    runtime.pool, settings.zone, now=datetime.now(UTC), links=settings.preference_links()
                )
                if planned:
                    log.info("daily digests planned", digests=planned)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: try again at the next tick
                log.warning("digest round failed", error=repr(exc))
            await asyncio.sleep(settings.digest_check_s)

    return digests
