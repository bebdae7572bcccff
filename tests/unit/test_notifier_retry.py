"""A dead delivery an administrator retries gets a fresh budget of attempts: the budget and
the back-off count from the attempts already spent when it was retried. Pure, no I/O."""

from hypothesis import given
from hypothesis import strategies as st

from regia_notifier.domain.retry import AttemptOutcome, DeliveryStatus, RetryPolicy, after_attempt, backoff_ceiling

POLICY = RetryPolicy(max_attempts=3, base_s=1.0, max_s=300.0)


def test_a_retried_dead_letter_has_the_whole_budget_again() -> None:
    # Dead after attempt 3; retried at 3, so attempts 4 and 5 may fail and 6 is its last.
    assert after_attempt(3, AttemptOutcome.FAILED, POLICY).status is DeliveryStatus.DEAD
    assert after_attempt(4, AttemptOutcome.FAILED, POLICY, retry_from=3).status is DeliveryStatus.PENDING
    assert after_attempt(5, AttemptOutcome.FAILED, POLICY, retry_from=3).status is DeliveryStatus.PENDING
    assert after_attempt(6, AttemptOutcome.FAILED, POLICY, retry_from=3).status is DeliveryStatus.DEAD
    assert after_attempt(6, AttemptOutcome.SENT, POLICY, retry_from=3).status is DeliveryStatus.DELIVERED


def test_the_back_off_after_a_retry_starts_short_again() -> None:
    first = after_attempt(4, AttemptOutcome.FAILED, POLICY, lambda: 1.0, retry_from=3)
    assert first.retry_in_s == backoff_ceiling(1, POLICY.base_s, POLICY.max_s) == 1.0
    second = after_attempt(5, AttemptOutcome.ABANDONED, POLICY, lambda: 1.0, retry_from=3)
    assert second.retry_in_s == 2.0


def test_without_a_retry_nothing_changes() -> None:
    assert after_attempt(2, AttemptOutcome.FAILED, POLICY, lambda: 1.0) == after_attempt(
        2, AttemptOutcome.FAILED, POLICY, lambda: 1.0, retry_from=0
    )


@given(st.integers(0, 1000), st.integers(1, 20), st.integers(1, 20))
def test_exactly_max_attempts_failures_after_each_retry(retry_from: int, max_attempts: int, n: int) -> None:
    policy = RetryPolicy(max_attempts=max_attempts, base_s=1.0, max_s=10.0)
    status = after_attempt(retry_from + n, AttemptOutcome.FAILED, policy, retry_from=retry_from).status
    assert (status is DeliveryStatus.DEAD) == (n >= max_attempts)


def test_an_undeliverable_failure_is_dead_at_once_even_after_a_retry() -> None:
    assert after_attempt(1, AttemptOutcome.FAILED, POLICY, permanent=True).status is DeliveryStatus.DEAD
    assert after_attempt(4, AttemptOutcome.FAILED, POLICY, retry_from=3, permanent=True).status is DeliveryStatus.DEAD
    assert after_attempt(1, AttemptOutcome.FAILED, POLICY).status is DeliveryStatus.PENDING
