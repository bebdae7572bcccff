"""The coverage and status rules of docs/domain.md ("Coverage and status"), as plain functions."""

from hypothesis import given
from hypothesis import strategies as st

from regia_objectives.domain.coverage import Allocation, coverage_bp, status_of, year_coverage
from regia_objectives.domain.lines import LineState, latest_per_line
from regia_shared.contracts.events.objectives import CoverageStatus as S

cents = st.integers(min_value=0, max_value=10**14)
threshold = st.integers(min_value=1, max_value=100)


def test_the_thresholds_of_the_design() -> None:
    need = 1_000_00
    assert status_of(need, 0, 80) is S.UNFUNDED
    assert status_of(need, 1, 80) is S.AT_RISK
    assert status_of(need, 799_99, 80) is S.AT_RISK
    assert status_of(need, 800_00, 80) is S.PARTIALLY_FUNDED
    assert status_of(need, 999_99, 80) is S.PARTIALLY_FUNDED
    assert status_of(need, 1_000_00, 80) is S.FUNDED
    assert status_of(need, 5_000_00, 80) is S.FUNDED
    assert status_of(0, 0, 80) is S.FUNDED  # nothing needed, nothing missing


@given(need=cents, committed=cents, pct=threshold)
def test_status_agrees_with_exact_coverage(need: int, committed: int, pct: int) -> None:
    status = status_of(need, committed, pct)
    if committed >= need:
        assert status is S.FUNDED
    elif committed == 0:
        assert status is S.UNFUNDED
    elif committed / need < pct / 100 - 1e-12:
        assert status is S.AT_RISK
    elif committed / need >= pct / 100 + 1e-12:
        assert status is S.PARTIALLY_FUNDED


@given(need=st.integers(min_value=1, max_value=10**14), a=cents, b=cents)
def test_more_money_never_lowers_coverage(need: int, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert coverage_bp(need, low) <= coverage_bp(need, high)


@given(st.lists(st.tuples(st.sampled_from(["COMUNE", "REGIONE", "EU"]), cents, cents), max_size=20))
def test_levels_add_up_to_the_total(rows: list[tuple[str, int, int]]) -> None:
    year = year_coverage("o", 2027, 10**9, 80, [Allocation(*r) for r in rows])
    assert sum(year.committed_by_level.values()) == year.committed_cents == sum(r[1] for r in rows)
    assert year.disbursed_cents == sum(r[2] for r in rows)


def state(line: str, version: int, committed: int) -> LineState:
    return LineState(line, "o", 2027, "REGIONE", "i", committed, 0, version)


@given(st.permutations([state("A", 1, 10), state("A", 2, 20), state("A", 3, 30), state("B", 1, 5)]))
def test_newest_version_wins_in_any_order(order: list[LineState]) -> None:
    latest = {s.line_id: s for s in latest_per_line(order + order)}
    assert latest["A"].committed_cents == 30 and latest["B"].committed_cents == 5
