"""The notifier's pure rules: back-off with full jitter, when to give up, and the alert
as each language reads it. No I/O."""

import dataclasses
import uuid

from hypothesis import given
from hypothesis import strategies as st

from regia_notifier.domain.messages import percent, render_alert
from regia_notifier.domain.occurrences import StatusChange
from regia_notifier.domain.retry import (
    AttemptOutcome,
    DeliveryStatus,
    RetryPolicy,
    after_attempt,
    backoff_ceiling,
    backoff_delay,
)
from regia_shared.contracts.events.objectives import CoverageStatus

POLICY = RetryPolicy(max_attempts=6, base_s=1.0, max_s=300.0)
CHANGE = StatusChange(
    objective_id="miglio-blu",
    title="Miglio Blu",
    fiscal_year=2027,
    previous_status=CoverageStatus.PARTIALLY_FUNDED,
    status=CoverageStatus.AT_RISK,
    coverage_bp=4550,
    need_cents=5_000_000_00,
    committed_cents=2_275_000_00,
    at_risk_threshold_pct=80,
)
EVENT = uuid.UUID("0b6f4a52-3f43-4c39-9d8e-3c8a5c1f0a01")


def test_the_ceiling_doubles_from_the_base_up_to_the_cap() -> None:
    assert [backoff_ceiling(n, 1.0, 300.0) for n in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert backoff_ceiling(10_000, 1.0, 300.0) == 300.0  # no overflow on absurd attempt numbers


@given(
    attempt=st.integers(1, 10_000),
    base=st.floats(0.001, 60),
    cap=st.floats(0.001, 3600),
    r=st.floats(0, 1, exclude_max=True),
)
def test_full_jitter_stays_between_zero_and_the_ceiling(attempt: int, base: float, cap: float, r: float) -> None:
    delay = backoff_delay(attempt, base, cap, rand=lambda: r)
    assert 0.0 <= delay <= min(cap, base * 2.0 ** min(attempt - 1, 64))


def test_jitter_spans_the_whole_range() -> None:
    assert backoff_delay(3, 1.0, 300.0, rand=lambda: 0.0) == 0.0
    assert backoff_delay(3, 1.0, 300.0, rand=lambda: 0.999999) < 4.0
    assert backoff_delay(3, 1.0, 300.0, rand=lambda: 0.5) == 2.0


def test_success_delivers_failure_retries_and_the_last_failure_is_dead() -> None:
    assert after_attempt(1, AttemptOutcome.SENT, POLICY).status is DeliveryStatus.DELIVERED
    retry = after_attempt(2, AttemptOutcome.FAILED, POLICY, rand=lambda: 0.5)
    assert retry.status is DeliveryStatus.PENDING and retry.retry_in_s == 1.0
    assert after_attempt(5, AttemptOutcome.ABANDONED, POLICY).status is DeliveryStatus.PENDING
    dead = after_attempt(6, AttemptOutcome.FAILED, POLICY)
    assert dead.status is DeliveryStatus.DEAD and dead.retry_in_s is None
    assert after_attempt(6, AttemptOutcome.SENT, POLICY).status is DeliveryStatus.DELIVERED


def test_italian_alert() -> None:
    message = render_alert(CHANGE, language="it", name="Maria Rossi", event_id=str(EVENT))
    assert message.subject == "[Regia] Miglio Blu 2027: A RISCHIO"
    text = message.text
    assert text.startswith("Gentile Maria Rossi,")
    for line in (
        "Obiettivo:",
        "Miglio Blu",
        "Anno:",
        "2027",
        "PARZIALMENTE FINANZIATO → A RISCHIO",
        "45,50 %",
        "€ 5.000.000,00",
        "€ 2.275.000,00",
        "80 %",
        str(EVENT),
    ):
        assert line in text, line


def test_english_alert() -> None:
    message = render_alert(CHANGE, language="en", name="John Smith", event_id=str(EVENT))
    assert message.subject == "[Regia] Miglio Blu 2027: at risk"
    for line in (
        "Dear John Smith,",
        "Objective:",
        "Fiscal year:",
        "partially funded → at risk",
        "45.50%",
        "Need:",
        "€5,000,000.00",
        "Committed:",
        "€2,275,000.00",
        "80%",
    ):
        assert line in message.text, line


def test_a_first_status_and_a_hostile_title_render_safely() -> None:
    first = dataclasses.replace(CHANGE, previous_status=None, title="Miglio\r\nBcc: x@evil.test Blu")
    message = render_alert(first, language="it", name="Maria", event_id=str(EVENT))
    assert "\n" not in message.subject and "\r" not in message.subject
    assert "nessuno → A RISCHIO" in message.text
    assert percent(10000, "it") == "100,00 %" and percent(7, "en") == "0.07%"
