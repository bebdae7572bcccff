"""Recording attempts' outcomes, many at once, inside the caller's transaction: each
delivery moves on (delivered, retried later, or dead) with one statement for all of them,
their attempt rows with another, and AlertDelivered / AlertFailed for those that ended go
to the outbox with a third. A delivery whose claim was lost meanwhile (it expired and
another dispatcher took it over) keeps the newer attempt's outcome: its own is dropped."""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.notifications import AlertDelivered, AlertFailed
from regia_shared.messaging import outbox
from regia_shared.observability.logs import get_logger

from ..adapters import deliveries
from ..adapters.deliveries import Step
from ..domain.delivery import ClaimedDelivery, Concluded
from ..domain.retry import AttemptOutcome, DeliveryStatus, RetryPolicy, after_attempt

log = get_logger(__name__)


@dataclass(frozen=True)
class Tried:
    delivery: ClaimedDelivery
    outcome: AttemptOutcome
    error: str | None
    at: datetime
    duration_ms: int | None
    permanent: bool = False  # Undeliverable: dead now, whatever attempts are left


async def record(
    conn: asyncpg.Connection, tried: Sequence[Tried], policy: RetryPolicy, rand: Callable[[], float] = random.random
) -> list[Concluded]:
    """Record the outcomes; returns those recorded (not those whose claim was lost)."""
    steps = []
    for t in tried:
        d = t.delivery
        step = after_attempt(d.attempt, t.outcome, policy, rand, retry_from=d.retry_from, permanent=t.permanent)
        steps.append(
            Step(d.delivery_id, d.attempt, t.at, t.duration_ms, t.outcome, t.error, step.status, step.retry_in_s)
        )
    moved = await deliveries.conclude(conn, steps)
    kept = [(t, s) for t, s in zip(tried, steps, strict=True) if (s.delivery_id, s.attempt) in moved]
    await deliveries.record_attempts(conn, [s for _, s in kept])
    await outbox.append(
        conn,
        topics.NOTIFICATIONS,
        [
            _outcome_event(t.delivery, s.status, s.error)
            for t, s in kept
            if s.status in (DeliveryStatus.DELIVERED, DeliveryStatus.DEAD)
        ],
    )
    for s in steps:
        if (s.delivery_id, s.attempt) not in moved:
            log.warning(
                "delivery claim lost before its outcome was recorded", delivery_id=str(s.delivery_id), attempt=s.attempt
            )
        else:
            log.info(
                "delivery attempted",
                delivery_id=str(s.delivery_id),
                attempt=s.attempt,
                outcome=s.outcome.value,
                status=s.status.value,
                retry_in_s=s.retry_in_s,
                error=s.error,
            )
    return [Concluded(t.delivery, s.outcome, s.status) for t, s in kept]


def _outcome_event(d: ClaimedDelivery, status: DeliveryStatus, error: str | None) -> Envelope:
    common = {
        "delivery_id": str(d.delivery_id),
        "cause_event_id": str(d.cause_event_id),
        "channel": d.channel,
        "recipient": d.recipient,
        "attempts": d.attempt,
    }
    payload = (
        AlertDelivered(**common)
        if status is DeliveryStatus.DELIVERED
        else AlertFailed(**common, error=error or "unknown error")
    )
    return Envelope.wrap(
        payload,
        key=str(d.delivery_id),
        producer="notifier",
        correlation_id=d.correlation_id,
        causation_id=str(d.cause_event_id),
    )
