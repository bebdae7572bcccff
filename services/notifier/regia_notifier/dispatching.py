"""The dispatcher's use cases: claim due deliveries, attempt them, and record each
outcome. Recording is one transaction: the attempt row, the delivery's new status and,
when it is final, the AlertDelivered / AlertFailed event in the outbox."""

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from regia_shared import outbox, topics
from regia_shared.events.envelope import Envelope
from regia_shared.events.notifications import AlertDelivered, AlertFailed
from regia_shared.logs import get_logger

from .adapters import deliveries
from .adapters.smtp import SEND_ERRORS, SmtpMailer, compose, describe
from .adapters.webhook_http import SEND_ERRORS as WEBHOOK_ERRORS
from .adapters.webhook_http import WebhookError, WebhookSender
from .domain.delivery import ClaimedDelivery
from .domain.retry import AttemptOutcome, DeliveryStatus, RetryPolicy, after_attempt

log = get_logger(__name__)


@dataclass(frozen=True)
class Concluded:
    delivery: ClaimedDelivery
    outcome: AttemptOutcome
    status: DeliveryStatus


class Dispatch:
    def __init__(self, pool: asyncpg.Pool, mailer: SmtpMailer, policy: RetryPolicy, *,
                 lease_s: float, batch: int, rand: Callable[[], float] = random.random,
                 webhooks: WebhookSender | None = None) -> None:
        self._pool, self._mailer, self._policy = pool, mailer, policy
        self._webhooks = webhooks
        self._lease_s, self.batch, self._rand = lease_s, batch, rand

    async def reap_expired(self) -> list[Concluded]:
        """Conclude, as abandoned, the attempts whose claim ran out."""
        async with self._pool.acquire() as conn, conn.transaction():
            expired = await deliveries.lock_expired(conn, self.batch)
            error = f"no outcome within the {self._lease_s:g} s claim: the dispatcher stopped mid-attempt"
            done = [await self._conclude(conn, d, AttemptOutcome.ABANDONED, error, datetime.now(UTC), None)
                    for d in expired]
        return [c for c in done if c is not None]

    async def claim(self) -> list[ClaimedDelivery]:
        async with self._pool.acquire() as conn:
            return await deliveries.claim_due(conn, self.batch, self._lease_s)

    async def attempt(self, delivery: ClaimedDelivery) -> Concluded | None:
        started_at, clock = datetime.now(UTC), time.perf_counter()
        try:
            await self._send(delivery)
            outcome, error = AttemptOutcome.SENT, None
        except SEND_ERRORS + WEBHOOK_ERRORS as exc:
            outcome, error = AttemptOutcome.FAILED, describe(exc)
        except Exception as exc:
            # A bug (say, a message that cannot be composed) is still a failed attempt on
            # record, retried and in the end DEAD, not a claim left to expire unexplained.
            log.exception("delivery attempt crashed", delivery_id=str(delivery.delivery_id))
            outcome, error = AttemptOutcome.FAILED, f"internal error: {describe(exc)}"
        duration_ms = int((time.perf_counter() - clock) * 1000)
        async with self._pool.acquire() as conn, conn.transaction():
            return await self._conclude(conn, delivery, outcome, error, started_at, duration_ms)

    async def _send(self, delivery: ClaimedDelivery) -> None:
        if delivery.channel == "webhook":
            if self._webhooks is None:
                raise WebhookError("this dispatcher sends no webhooks")
            await self._webhooks.send(delivery)
        else:
            await self._mailer.send(compose(delivery, self._mailer.sender))

    async def run_once(self) -> tuple[int, list[Concluded]]:
        """One round: reap, claim, send concurrently. Returns (claimed, concluded)."""
        concluded = await self.reap_expired()
        claimed = await self.claim()
        results = await asyncio.gather(*(self.attempt(d) for d in claimed), return_exceptions=True)
        for failure in (r for r in results if isinstance(r, BaseException)):
            # Recording failed (the database went away): the claim expires and is retried.
            log.warning("delivery outcome not recorded", error=repr(failure))
        return len(claimed), concluded + [r for r in results if isinstance(r, Concluded)]

    async def pause(self, longest_s: float) -> float:
        """How long to sleep before the next round if nothing wakes us sooner."""
        async with self._pool.acquire() as conn:
            due_in = await deliveries.seconds_until_next_due(conn)
        # A small floor: a due row locked by another replica must not make us spin.
        return longest_s if due_in is None else min(longest_s, max(0.05, due_in))

    async def _conclude(self, conn: asyncpg.Connection, d: ClaimedDelivery, outcome: AttemptOutcome,
                        error: str | None, at: datetime, duration_ms: int | None) -> Concluded | None:
        step = after_attempt(d.attempt, outcome, self._policy, self._rand, retry_from=d.retry_from)
        if not await deliveries.conclude(conn, d, step.status, step.retry_in_s, error):
            log.warning("delivery claim lost before its outcome was recorded",
                        delivery_id=str(d.delivery_id), attempt=d.attempt)
            return None
        await deliveries.record_attempt(conn, d.delivery_id, d.attempt, at, duration_ms, outcome, error)
        if step.status in (DeliveryStatus.DELIVERED, DeliveryStatus.DEAD):
            await outbox.append(conn, topics.NOTIFICATIONS, [_outcome_event(d, step.status, error)])
        log.info("delivery attempted", delivery_id=str(d.delivery_id), attempt=d.attempt,
                 outcome=outcome.value, status=step.status.value, retry_in_s=step.retry_in_s,
                 error=error)
        return Concluded(d, outcome, step.status)


def _outcome_event(d: ClaimedDelivery, status: DeliveryStatus, error: str | None) -> Envelope:
    common = {"delivery_id": str(d.delivery_id), "cause_event_id": str(d.cause_event_id),
              "channel": d.channel, "recipient": d.recipient, "attempts": d.attempt}
    payload = (AlertDelivered(**common) if status is DeliveryStatus.DELIVERED
               else AlertFailed(**common, error=error or "unknown error"))
    return Envelope.wrap(payload, key=str(d.delivery_id), producer="notifier",
                         correlation_id=d.correlation_id, causation_id=str(d.cause_event_id))
