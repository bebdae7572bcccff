"""The coverage and status rules of docs/domain.md ("Coverage and status"), as plain functions."""

from hypothesis import given
from hypothesis import strategies as st

from regia_objectives.domain.coverage import Allocation, YearCoverage, coverage_bp, roll_up, status_of, year_coverage
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
    assert status_of(1, 1, 80) is S.FUNDED  # the least need there is, fully covered


def test_a_year_with_no_need_declared_is_never_funded() -> None:
    """Issue 17: a year with no need reads "senza fabbisogno", not "FINANZIATO 100 %", and
    whatever is committed to it is over-commitment."""
    for committed in (0, 1, 5_000_00, 10**14):
        for pct in (1, 80, 100):
            assert status_of(0, committed, pct) is S.NO_NEED
    nothing = year_coverage("o", 2027, 0, 80, [])
    assert (nothing.status, nothing.over_committed_cents) == (S.NO_NEED, 0)
    money = year_coverage("o", 2027, 0, 80, [Allocation("REGIONE", 300_00, 0), Allocation("EU", 200_00, 0)])
    assert (money.status, money.committed_cents, money.over_committed_cents) == (S.NO_NEED, 500_00, 500_00)


def test_money_above_a_declared_need_is_over_commitment_too() -> None:
    assert year_coverage("o", 2027, 1_000_00, 80, [Allocation("REGIONE", 1_500_00, 0)]).over_committed_cents == 500_00
    assert year_coverage("o", 2027, 1_000_00, 80, [Allocation("REGIONE", 1_000_00, 0)]).over_committed_cents == 0
    assert year_coverage("o", 2027, 1_000_00, 80, [Allocation("REGIONE", 600_00, 0)]).over_committed_cents == 0


def test_a_parent_counts_no_need_children_as_no_need_not_as_funded() -> None:
    """A roll-up adds the subtree up: a child with no need adds no need, so a parent whose
    other children are short stays short, and a parent with no need anywhere is NO_NEED."""
    short = year_coverage("a", 2027, 1_000_00, 80, [Allocation("REGIONE", 500_00, 0)])
    none_needed = year_coverage("b", 2027, 0, 80, [])
    empty = YearCoverage("p", 2027, 0, 0, 0)
    assert roll_up(empty, [short, none_needed], 80).status is S.AT_RISK
    assert roll_up(empty, [none_needed], 80).status is S.NO_NEED
    assert roll_up(empty, [], 80).status is S.NO_NEED
    over = year_coverage("c", 2027, 0, 80, [Allocation("EU", 200_00, 0)])
    both = roll_up(empty, [none_needed, over], 80)
    assert (both.status, both.committed_cents, both.over_committed_cents) == (S.NO_NEED, 200_00, 200_00)


@given(need=cents, committed=cents, pct=threshold)
def test_status_agrees_with_exact_coverage(need: int, committed: int, pct: int) -> None:
    status = status_of(need, committed, pct)
    if need == 0:
        assert status is S.NO_NEED
    elif committed >= need:
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
