"""Coverage far above the need and totals at the edge of the contract (issue 22): the
figure always fits the bigint column, the status never depends on it, and a total no
event can carry is refused by name."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regia_objectives.domain.coverage import (
    MAX_COVERAGE_BP,
    Allocation,
    coverage_bp,
    percent,
    roll_up,
    status_of,
    within_bounds,
    year_coverage,
)
from regia_objectives.domain.errors import TotalTooLarge
from regia_shared.contracts.events.objectives import CoverageStatus as S
from regia_shared.contracts.money import MAX_CENTS

BIGINT = 2**63 - 1
cents = st.integers(min_value=0, max_value=MAX_CENTS)


def test_the_reported_commitment_is_exact_and_above_int32() -> None:
    # €2,150,000 against a €10 need: what an integer column could not hold.
    assert coverage_bp(10_00, 2_150_000_00) == 2_150_000_000 > 2**31 - 1
    assert status_of(10_00, 2_150_000_00, 80) is S.FUNDED
    assert percent(2_150_000_000) == "21500000.00" and percent(7_999) == "79.99" and percent(5) == "0.05"


@given(need=cents, committed=st.integers(min_value=0, max_value=BIGINT))
def test_coverage_always_fits_a_bigint_and_a_javascript_number(need: int, committed: int) -> None:
    bp = coverage_bp(need, committed)
    assert 0 <= bp <= MAX_COVERAGE_BP < 2**53 < BIGINT


@given(need=st.integers(min_value=1, max_value=MAX_CENTS), committed=cents)
def test_coverage_is_exact_below_the_cap(need: int, committed: int) -> None:
    exact = committed * 10_000 // need
    assert coverage_bp(need, committed) == min(exact, MAX_COVERAGE_BP)


def test_a_total_above_what_an_event_carries_is_refused_naming_the_field() -> None:
    half = year_coverage("o", 2027, 0, 80, [Allocation("REGIONE", 60_000_000_000_000, 0)])
    assert within_bounds(half) is half
    two = year_coverage("o", 2027, 0, 80, [Allocation("REGIONE", 60_000_000_000_000, 0)] * 2)
    with pytest.raises(TotalTooLarge) as refused:
        within_bounds(two)
    assert refused.value.field == "committed_cents" and refused.value.status == 422
    child = year_coverage("a", 2027, MAX_CENTS, 80, [])
    with pytest.raises(TotalTooLarge) as refused:
        within_bounds(roll_up(year_coverage("v", 2027, 1, 80, []), [child], 80))
    assert refused.value.field == "need_cents" and "'v'" in refused.value.message
