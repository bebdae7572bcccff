"""The dispatcher's use cases: claim due deliveries, attempt them, and record the outcomes.

A round's outcomes are recorded together in one transaction: the attempt rows, the
deliveries' new statuses and, for those that ended, AlertDelivered / AlertFailed in the
outbox, each with one statement. Recorded one by one, each outcome cost a transaction of
five round trips, which was the dispatcher's largest cost after SMTP itself.
"""

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from regia_shared import outbox, topics
from regia_shared.events.envelope import Envelope
from regia_shared.events.notifications import AlertDelivered, AlertFailed
from regia_shared.logs import get_logger

from .adapters import deliveries
from .adapters.deliveries import Step
from .adapters.smtp import SEND_ERRORS, SmtpMailer, compose, describe
from .adapters.webhook_http import SEND_ERRORS as WEBHOOK_ERRORS
from .adapters.webhook_http import WebhookError, WebhookSender
from .domain.delivery import ClaimedDelivery
from .domain.retry import AttemptOutcome, DeliveryStatus, RetryPolicy, after_attempt

log = get_logger(__name__)
# Expired claims appear only a lease after their dispatcher died; looking for them once
# a second, not every round, keeps a transaction off the busy path.
REAP_EVERY_S = 1.0


@dataclass(frozen=True)
class Concluded:
    delivery: ClaimedDelivery
    outcome: AttemptOutcome
    status: DeliveryStatus


@dataclass(frozen=True)
class Tried:
    delivery: ClaimedDelivery
    outcome: AttemptOutcome
    error: str | None
    at: datetime
    duration_ms: int | None


class Dispatch:
    def __init__(self, pool: asyncpg.Pool, mailer: SmtpMailer, policy: RetryPolicy, *,
                 lease_s: float, batch: int, rand: Callable[[], float] = random.random,
                 webhooks: WebhookSender | None = None) -> None:
        self._pool, self._mailer, self._policy = pool, mailer, policy
        self._webhooks = webhooks
        self._lease_s, self.batch, self._rand = lease_s, batch, rand
        self._reaped_at = float("-inf")

    async def reap_expired(self) -> list[Concluded]:
        """Conclude, as abandoned, the attempts whose claim ran out."""
        if time.monotonic() - self._reaped_at < REAP_EVERY_S:
            return []
        async with self._pool.acquire() as conn, conn.transaction():
            expired = await deliveries.lock_expired(conn, self.batch)
            error = f"no outcome within the {self._lease_s:g} s claim: the dispatcher stopped mid-attempt"
            now = datetime.now(UTC)
            done = await self._conclude(conn, [Tried(d, AttemptOutcome.ABANDONED, error, now, None)
                                               for d in expired])
        # Only a reap that found nothing waits a second: a full one may have left more.
        if len(expired) < self.batch:
            self._reaped_at = time.monotonic()
        return done

    async def claim(self) -> list[ClaimedDelivery]:
        async with self._pool.acquire() as conn:
            return await deliveries.claim_due(conn, self.batch, self._lease_s)

    async def attempt(self, delivery: ClaimedDelivery) -> Tried:
        """Send once; never raises (a failure is an outcome to record)."""
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
        return Tried(delivery, outcome, error, started_at, int((time.perf_counter() - clock) * 1000))

    async def _send(self, delivery: ClaimedDelivery) -> None:
        if delivery.channel == "webhook":
            if self._webhooks is None:
                raise WebhookError("this dispatcher sends no webhooks")
            await self._webhooks.send(delivery)
        else:
            await self._mailer.send(compose(delivery, self._mailer.sender))

    async def run_once(self) -> tuple[int, list[Concluded]]:
        """One round: reap, claim, send concurrently, record. Returns (claimed, concluded)."""
        concluded = await self.reap_expired()
        claimed = await self.claim()
        if not claimed:
            return 0, concluded
        tried = await asyncio.gather(*(self.attempt(d) for d in claimed))
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                concluded += await self._conclude(conn, tried)
        except Exception as exc:
            # Recording failed (the database went away): the claims expire and are retried.
            log.warning("delivery outcomes not recorded", deliveries=len(tried), error=repr(exc))
        return len(claimed), concluded

    async def pause(self, longest_s: float) -> float:
        """How long to sleep before the next round if nothing wakes us sooner."""
        async with self._pool.acquire() as conn:
            due_in = await deliveries.seconds_until_next_due(conn)
        # A small floor: a due row locked by another replica must not make us spin.
        return longest_s if due_in is None else min(longest_s, max(0.05, due_in))

    async def close(self) -> None:
        await self._mailer.close()

    async def _conclude(self, conn: asyncpg.Connection, tried: Sequence[Tried]) -> list[Concluded]:
        steps = []
        for t in tried:
            d = t.delivery
            step = after_attempt(d.attempt, t.outcome, self._policy, self._rand, retry_from=d.retry_from)
            steps.append(Step(d.delivery_id, d.attempt, t.at, t.duration_ms, t.outcome, t.error,
                              step.status, step.retry_in_s))
        moved = await deliveries.conclude(conn, steps)
        kept = [(t, s) for t, s in zip(tried, steps, strict=True) if (s.delivery_id, s.attempt) in moved]
        await deliveries.record_attempts(conn, [s for _, s in kept])
        await outbox.append(conn, topics.NOTIFICATIONS, [
            _outcome_event(t.delivery, s.status, s.error) for t, s in kept
            if s.status in (DeliveryStatus.DELIVERED, DeliveryStatus.DEAD)])
        for t, s in zip(tried, steps, strict=True):
            if (s.delivery_id, s.attempt) not in moved:
                log.warning("delivery claim lost before its outcome was recorded",
                            delivery_id=str(s.delivery_id), attempt=s.attempt)
            else:
                log.info("delivery attempted", delivery_id=str(s.delivery_id), attempt=s.attempt,
                         outcome=s.outcome.value, status=s.status.value, retry_in_s=s.retry_in_s,
                         error=s.error)
        return [Concluded(t.delivery, s.outcome, s.status) for t, s in kept]


def _outcome_event(d: ClaimedDelivery, status: DeliveryStatus, error: str | None) -> Envelope:
    common = {"delivery_id": str(d.delivery_id), "cause_event_id": str(d.cause_event_id),
              "channel": d.channel, "recipient": d.recipient, "attempts": d.attempt}
    payload = (AlertDelivered(**common) if status is DeliveryStatus.DELIVERED
               else AlertFailed(**common, error=error or "unknown error"))
    return Envelope.wrap(payload, key=str(d.delivery_id), producer="notifier",
                         correlation_id=d.correlation_id, causation_id=str(d.cause_event_id))
