"""Issue 18: a roll-up never lets one child's surplus hide a sibling's gap; gaps, the as-of
tree computation and the filtered plan tree's kept nodes. Pure rules, no I/O."""

from typing import get_args

from hypothesis import given
from hypothesis import strategies as st

from regia_objectives.domain.coverage import (
    Allocation,
    YearCoverage,
    gap_to_full_cents,
    gap_to_threshold_cents,
    roll_up,
    status_of,
    tree_coverage,
    year_coverage,
)
from regia_objectives.domain.tree import kept_with_ancestors
from regia_objectives.entrypoints.objectives_http import StatusFilter
from regia_shared.contracts.events.objectives import CoverageStatus as S

MILLION = 1_000_000_00


def leaf(node: str, need: int, committed: int) -> YearCoverage:
    money = [Allocation("REGIONE", committed, 0)] if committed else []
    return year_coverage(node, 2027, need, 80, money)


def test_the_issues_programme_is_not_funded_404_percent_while_an_action_is_unfunded() -> None:
    """Two actions of €1M each, one with €8.08M committed and one with nothing: added up
    that was €8.08M / €2M = 404 % and FUNDED, the issue's programme."""
    rich, empty = leaf("a1", MILLION, 808 * MILLION // 100), leaf("a2", MILLION, 0)
    assert (rich.status, empty.status) == (S.FUNDED, S.UNFUNDED)
    programme = roll_up(YearCoverage("p", 2027, 0, 0, 0), [rich, empty], 80)
    assert programme.committed_cents == 808 * MILLION // 100  # all the money, reconciled
    assert programme.counted_cents == MILLION  # a1 counts up to its need, a2 brings nothing
    assert programme.surplus_cents == 708 * MILLION // 100
    assert programme.coverage_bp == 5_000  # 50 %, not 40,400
    assert programme.status is S.AT_RISK  # not FUNDED
    assert gap_to_threshold_cents(programme.need_cents, programme.effective_cents, 80) == 60 * MILLION // 100
    assert gap_to_full_cents(programme.need_cents, programme.effective_cents) == MILLION


def test_a_grandchilds_surplus_is_capped_at_each_level() -> None:
    """A vision over a programme over two objectives: the objective's surplus is capped at
    the programme, and the programme's counted money (not its committed) goes up."""
    over, short = leaf("o1", 2 * MILLION, 5 * MILLION), leaf("o2", 2 * MILLION, MILLION)
    programme = roll_up(YearCoverage("p", 2027, 0, 0, 0), [over, short], 80)
    assert (programme.counted_cents, programme.surplus_cents) == (3 * MILLION, 3 * MILLION)
    sibling = leaf("o3", MILLION, MILLION)
    vision = roll_up(YearCoverage("v", 2027, 0, 0, 0), [programme, sibling], 80)
    assert (vision.need_cents, vision.committed_cents, vision.counted_cents) == (5 * MILLION, 7 * MILLION, 4 * MILLION)
    assert (vision.coverage_bp, vision.status) == (8_000, S.PARTIALLY_FUNDED)


def test_money_committed_to_the_parent_itself_fills_any_gap_below() -> None:
    """Money given to a programme is no one child's: it counts toward what the subtree lacks."""
    own = year_coverage("p", 2027, 0, 80, [Allocation("EU", MILLION, 0)])
    programme = roll_up(own, [leaf("a1", MILLION, 0), leaf("a2", MILLION, 3 * MILLION)], 80)
    assert (programme.counted_cents, programme.surplus_cents, programme.status) == (2 * MILLION, 2 * MILLION, S.FUNDED)


def test_a_child_with_no_need_adds_only_surplus() -> None:
    none_needed = year_coverage("b", 2027, 0, 80, [Allocation("EU", 200_00, 0)])
    parent = roll_up(YearCoverage("p", 2027, 0, 0, 0), [none_needed, leaf("a", 1_000_00, 500_00)], 80)
    assert (parent.need_cents, parent.counted_cents, parent.surplus_cents) == (1_000_00, 500_00, 200_00)
    assert parent.status is S.AT_RISK


@given(
    st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 10**9)), min_size=1, max_size=6),
    st.integers(1, 100),
)
def test_counted_never_exceeds_need_nor_committed_and_status_follows_it(children: list, pct: int) -> None:
    rows = [year_coverage(f"c{i}", 2027, n, pct, [Allocation("COMUNE", c, 0)]) for i, (n, c) in enumerate(children)]
    parent = roll_up(YearCoverage("p", 2027, 0, 0, 0), rows, pct)
    assert parent.counted_cents is not None
    assert parent.counted_cents <= min(parent.need_cents, parent.committed_cents)
    assert parent.counted_cents == sum(min(c, n) for n, c in children)
    assert parent.status is status_of(parent.need_cents, parent.counted_cents, pct)
    # A parent is never FUNDED while a child with a need is short.
    if any(c < n for n, c in children):
        assert parent.status is not S.FUNDED


def test_gap_to_the_threshold_is_exactly_what_leaves_at_risk() -> None:
    need = 1_000_000_01  # odd cents: 80 % of it is not a whole cent
    gap = gap_to_threshold_cents(need, 0, 80)
    assert status_of(need, gap, 80) is S.PARTIALLY_FUNDED
    assert status_of(need, gap - 1, 80) is S.AT_RISK
    assert gap_to_threshold_cents(need, need, 80) == 0 and gap_to_full_cents(need, need + 5) == 0
    assert gap_to_threshold_cents(0, 0, 80) == 0


def test_tree_coverage_rolls_up_as_the_projection_does() -> None:
    parent_of = {"p": None, "a1": "p", "a2": "p", "idle": "p"}
    found = tree_coverage(
        parent_of,
        dict.fromkeys(parent_of, 80),
        {("a1", 2027): MILLION, ("a2", 2027): MILLION},
        {("a1", 2027): [Allocation("REGIONE", 4 * MILLION, 0)]},
    )
    assert set(found) == {("p", 2027), ("a1", 2027), ("a2", 2027)}  # idle has nothing: no row
    assert (found[("a2", 2027)].status, found[("p", 2027)].status) == (S.UNFUNDED, S.AT_RISK)
    assert (found[("p", 2027)].committed_cents, found[("p", 2027)].counted_cents) == (4 * MILLION, MILLION)


def test_a_filtered_tree_keeps_each_match_with_its_path() -> None:
    parent_of = {"v": None, "p1": "v", "o1": "p1", "a1": "o1", "p2": "v", "o2": "p2", "lone": None}
    assert kept_with_ancestors(parent_of, ["a1"]) == {"v", "p1", "o1", "a1"}
    assert kept_with_ancestors(parent_of, ["a1", "o2", "lone"]) == {"v", "p1", "o1", "a1", "p2", "o2", "lone"}
    assert kept_with_ancestors(parent_of, []) == set()


def test_the_status_filter_accepts_exactly_the_statuses_there_are() -> None:
    assert set(get_args(StatusFilter)) == {s.value for s in S}
