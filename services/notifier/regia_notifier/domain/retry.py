"""When to try a delivery again, and when to give up. Pure.

Full jitter (a uniform delay between zero and an exponentially growing ceiling) rather
than plain exponential back-off: when an SMTP server comes back after an outage, the
deliveries that failed together do not all retry in the same instant and knock it over.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

# The share of a claim's lease a webhook call may last at most: a claim that ran out is
# retried, so a call still open then would be sent again while open. The last quarter is
# the margin to record the outcome.
SEND_SHARE_OF_LEASE = 0.75


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its next attempt
    SENDING = "SENDING"  # claimed by a dispatcher, attempt under way
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"  # the last attempt failed; nobody will try again


class AttemptOutcome(StrEnum):
    SENT = "SENT"
    FAILED = "FAILED"
    ABANDONED = "ABANDONED"  # the claim expired before an outcome was recorded


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_s: float
    max_s: float


@dataclass(frozen=True)
class NextStep:
    status: DeliveryStatus
    retry_in_s: float | None = None


def backoff_ceiling(attempt: int, base_s: float, max_s: float) -> float:
    """The longest wait after failed attempt number `attempt` (1-based)."""
    # The exponent is capped so that a huge attempt number cannot overflow a float.
    return min(max_s, base_s * 2.0 ** min(attempt - 1, 64))


def backoff_delay(attempt: int, base_s: float, max_s: float, rand: Callable[[], float] = random.random) -> float:
    return rand() * backoff_ceiling(attempt, base_s, max_s)


def after_attempt(
    attempt: int,
    outcome: AttemptOutcome,
    policy: RetryPolicy,
    rand: Callable[[], float] = random.random,
    *,
    retry_from: int = 0,
    permanent: bool = False,
) -> NextStep:
    """`retry_from`: the attempts already spent when an administrator last retried the
    delivery. A retried dead letter gets a fresh budget (and a fresh, short back-off):
    counting from zero would make it dead again after one more failure. `permanent`: the
    failure was Undeliverable (domain.errors), so no attempt is left to spend on it."""
    if outcome is AttemptOutcome.SENT:
        return NextStep(DeliveryStatus.DELIVERED)
    spent = attempt - retry_from
    if permanent or spent >= policy.max_attempts:
        return NextStep(DeliveryStatus.DEAD)
    return NextStep(DeliveryStatus.PENDING, backoff_delay(spent, policy.base_s, policy.max_s, rand))
