"""The background job that puts waiting alerts together into messages: each person's
alerts when their grouping window closes, and the digests when they are due.

A NOTIFY from the waiting alerts' trigger tells it an alert was queued: with a window of 0
it looks at once; otherwise it need not look before a window from then. It sleeps until
the next window may close, or at most REGIA_NOTIFIER_DIGEST_CHECK_S, which is when due digests are looked for and the
fallback for a notification missed while its connection was being re-established.
Several replicas may run it: waiting alerts are claimed with SKIP LOCKED.
"""

import asyncio
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import asyncpg

from regia_shared.observability.logs import get_logger
from regia_shared.runtime import ServiceRuntime

from ..config import NotifierSettings, notifier_settings
from ..domain.preference_links import PreferenceLinks
from ..service_layer.message_assembly import assemble_due

log = get_logger(__name__)


def message_job(links: PreferenceLinks | None) -> Callable[[ServiceRuntime], Coroutine[Any, Any, None]]:
    async def assemble(runtime: ServiceRuntime) -> None:
        settings = notifier_settings(runtime.settings)
        while True:
            try:
                await _listen_and_assemble(runtime, settings, links)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: back off, reconnect
                log.warning("message round failed", error=repr(exc))
                await asyncio.sleep(settings.digest_check_s)

    return assemble


async def _listen_and_assemble(
    runtime: ServiceRuntime, settings: NotifierSettings, links: PreferenceLinks | None
) -> None:
    queued = asyncio.Event()
    conn = await asyncpg.connect(
        settings.database_url.get_secret_value(), server_settings={"search_path": runtime.name}
    )
    try:
        await conn.add_listener(f"{runtime.name}_waiting_alerts", lambda *_: queued.set())
        wait = settings.grouping.wait.total_seconds()
        while True:
            queued.clear()  # before the look: an alert queued during it wakes the next
            done = await assemble_due(
                runtime.pool, settings.grouping, settings.zone, now=datetime.now(UTC), links=links
            )
            if done.messages or done.settled:
                log.info("messages planned", messages=done.messages, settled=done.settled)
            deadline = time.monotonic() + settings.digest_check_s
            if done.next_look is not None:
                ahead = (done.next_look - datetime.now(UTC)).total_seconds()
                deadline = min(deadline, time.monotonic() + max(ahead, 0.0) + 0.01)
            while (left := deadline - time.monotonic()) > 0:
                try:
                    await asyncio.wait_for(queued.wait(), left)
                except TimeoutError:
                    break
                if wait == 0:
                    break  # sent at once
                # An alert just queued can only be due a window from now: no need to look
                # before then. (Looking at every one would re-read the whole queue hundreds of
                # times a second during a bulk import.)
                queued.clear()
                deadline = min(deadline, time.monotonic() + wait + 0.01)
            if conn.is_closed():
                raise ConnectionError("message job's listening connection closed")
    finally:
        await conn.close()
