"""The dispatcher background job: sends due deliveries as soon as they exist.

A NOTIFY from the deliveries table's trigger wakes it at commit time; otherwise it sleeps
until the next retry is due, or at most the poll interval, which is the fallback for a
notification missed while its listening connection was being re-established. Any number
of replicas can run it: claims skip rows another replica holds.
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg

from regia_shared.observability.logs import get_logger
from regia_shared.runtime import ServiceRuntime

from ..adapters.metrics import NotifierMetrics
from ..adapters.smtp import SmtpMailer
from ..adapters.webhook_sender import WebhookSender
from ..adapters.webhooks import SecretBox
from ..config import NotifierSettings, notifier_settings
from ..domain.retry import RetryPolicy
from ..service_layer.dispatching import Dispatch

log = get_logger(__name__)


def dispatcher_job(metrics: NotifierMetrics) -> Callable[[ServiceRuntime], Coroutine[Any, Any, None]]:
    async def dispatcher(runtime: ServiceRuntime) -> None:
        settings = notifier_settings(runtime.settings)
        policy = RetryPolicy(settings.max_attempts, settings.backoff_base_s, settings.backoff_max_s)
        box = SecretBox(settings.secrets_key.get_secret_value()) if settings.secrets_key else None
        work = Dispatch(
            runtime.pool,
            SmtpMailer(settings),
            policy,
            lease_s=settings.lease_s,
            batch=settings.concurrency,
            webhooks=WebhookSender(runtime.pool, box, settings.webhook_timeout_s, settings.webhook_networks),
            per_endpoint=settings.webhook_concurrency,
            on_concluded=metrics.count,
            links=settings.preference_links(),
        )
        try:
            while True:
                try:
                    await _listen_and_dispatch(runtime, settings, work)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database went away: back off, reconnect
                    log.warning("dispatcher interrupted", error=repr(exc))
                    await asyncio.sleep(settings.poll_interval_s)
        finally:
            await work.close()

    return dispatcher


async def _listen_and_dispatch(runtime: ServiceRuntime, settings: NotifierSettings, work: Dispatch) -> None:
    conn = await asyncpg.connect(
        settings.database_url.get_secret_value(), server_settings={"search_path": runtime.name}
    )
    try:
        await conn.add_listener(f"{runtime.name}_deliveries", lambda *_: work.changed.set())
        log.info("dispatcher listening", channel=f"{runtime.name}_deliveries")
        while True:
            # Cleared before the claim, so a delivery committed (or a send ended) during it
            # wakes the next look.
            work.changed.clear()
            if await work.run_once() and work.free_slots > 0:
                continue  # more may be due right now
            # Waiting for slots, the next send to end wakes us; otherwise the next due retry.
            longest = settings.poll_interval_s if work.waiting_for_slots else await work.pause(settings.poll_interval_s)
            try:
                await asyncio.wait_for(work.changed.wait(), longest)
            except TimeoutError:
                pass
            if conn.is_closed():
                raise ConnectionError("dispatcher's listening connection closed")
    finally:
        await conn.close()
