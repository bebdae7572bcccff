"""Progress of indicators, nodes and subtrees: exact, bounded, and indifferent to the scale
weights are written in."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regia_objectives.domain.errors import InvalidIndicatorData
from regia_objectives.domain.indicators import (
    Direction,
    Indicator,
    Measurement,
    check_measurement,
    check_target,
)
from regia_objectives.domain.progress import (
    Progress,
    as_decimal,
    indicator_progress,
    latest,
    node_progress,
    progress_in,
    roll_up,
)

D = Decimal
UNEMPLOYMENT = Indicator(
    "disoccupazione", "rete-lavoro", "Tasso di disoccupazione", "%", Direction.DECREASING, D("12"), 2020
)
JOBS = Indicator(
    "posti", "miglio-blu", "Posti di lavoro nella nautica", "posti di lavoro", Direction.INCREASING, D("1000"), 2019
)


def test_a_decreasing_indicator_progresses_as_it_falls() -> None:
    p = indicator_progress(D("12"), D("8"), D("10"))
    assert (p.raw, p.clamped) == (Fraction(1, 2), Fraction(1, 2))
    worse = indicator_progress(D("12"), D("8"), D("13"))
    assert (worse.raw, worse.clamped) == (Fraction(-1, 4), 0)
    beyond = indicator_progress(D("12"), D("8"), D("6"))
    assert (beyond.raw, beyond.clamped) == (Fraction(3, 2), 1)


def test_progress_is_exact_on_decimals() -> None:
    p = indicator_progress(D("0.1"), D("0.4"), D("0.2"))
    assert p.raw == Fraction(1, 3) and as_decimal(p.raw) == D("0.333333")
    assert as_decimal(Fraction(2, 3)) == D("0.666667")
    assert as_decimal(Fraction(1, 2_000_000)) == D("0.000000")  # half to even


@pytest.mark.parametrize(
    ("target", "actual", "reason"),
    [
        (D("8"), None, "no actual value yet"),
        (None, D("10"), "no target for the period"),
        (D("12"), D("10"), "the target equals the baseline: there is no distance to cover"),
    ],
)
def test_undefined_progress_says_why(target, actual, reason) -> None:  # type: ignore[no-untyped-def]
    p = indicator_progress(D("12"), target, actual)
    assert not p.defined and p.clamped is None and p.reason == reason


def test_the_latest_value_as_of_a_date_counts_and_the_period_picks_the_target() -> None:
    measurements = [
        Measurement(date(2026, 6, 30), D("1100")),
        Measurement(date(2025, 12, 31), D("1050")),
        Measurement(date(2026, 6, 30), D("1150"), comment="corrected"),
        Measurement(date(2027, 3, 31), D("1300")),
    ]
    targets = {2026: D("1200"), 2027: D("1500")}
    assert latest(measurements, date(2026, 1, 1)).value == D("1050")
    assert latest(measurements, date(2026, 12, 31)).value == D("1150")  # later recorded wins a tie
    assert latest(measurements, date(2025, 1, 1)) is None
    assert progress_in(JOBS, targets, measurements, 2026, date(2026, 12, 31)).raw == Fraction(3, 4)
    assert progress_in(JOBS, targets, measurements, 2027, date(2027, 12, 31)).raw == Fraction(3, 5)
    assert progress_in(JOBS, targets, measurements, 2028, date(2028, 12, 31)).reason == "no target for 2028"
    assert (
        progress_in(JOBS, targets, measurements, 2026, date(2025, 1, 1)).reason
        == "no actual value measured by 2025-01-01"
    )
    assert progress_in(JOBS, targets, [], 2026, date(2026, 12, 31)).reason == "no actual value yet"


def test_targets_must_point_the_way_the_indicator_improves() -> None:
    check_target(UNEMPLOYMENT, 2027, D("8"))
    check_target(UNEMPLOYMENT, 2027, D("12"))  # hold the line: allowed, progress undefined
    with pytest.raises(InvalidIndicatorData) as refused:
        check_target(UNEMPLOYMENT, 2027, D("13"))
    assert refused.value.field == "value" and "below" in refused.value.message
    with pytest.raises(InvalidIndicatorData) as refused:
        check_target(JOBS, 2018, D("2000"), year_field="targets.0.fiscal_year")
    assert refused.value.field == "targets.0.fiscal_year"


def test_measurements_are_not_from_the_future_nor_before_the_baseline() -> None:
    today = date(2026, 5, 1)
    check_measurement(JOBS, Measurement(today, D("1")), today)
    for when in (date(2026, 5, 2), date(2018, 12, 31)):
        with pytest.raises(InvalidIndicatorData) as refused:
            check_measurement(JOBS, Measurement(when, D("1")), today)
        assert refused.value.field == "measured_on"


def test_a_small_tree_rolls_up_to_hand_computed_figures() -> None:
    # vision ─┬─ programme (weight 3) ─┬─ a (weight 1): own 0.5
    #         │                        └─ b (weight 3): own 1.5 (raw), undefined indicator
    #         └─ c (weight 1): no indicators at all
    parent_of = {"vision": None, "programme": "vision", "a": "programme", "b": "programme", "c": "vision"}
    weights = {"programme": 3, "a": 1, "b": 3, "c": 1}
    own = {
        "a": [Progress.of(Fraction(1, 2))],
        "b": [Progress.of(Fraction(3, 2)), Progress.undefined("no target for the period")],
    }
    result = roll_up("vision", parent_of, weights, own)
    b = result["b"]
    assert (b.progress.raw, b.progress.clamped, b.indicators_counted, b.indicators_left_out) == (
        Fraction(3, 2),
        1,
        1,
        1,
    )
    programme = result["programme"].progress
    assert programme.raw == (Fraction(1, 2) + 3 * Fraction(3, 2)) / 4 == Fraction(5, 4)
    assert programme.clamped == (Fraction(1, 2) + 3) / 4 == Fraction(7, 8)
    vision = result["vision"]
    assert (vision.progress.raw, vision.progress.clamped) == (Fraction(5, 4), Fraction(7, 8))
    assert (vision.children_counted, vision.children_left_out) == (1, 1)
    assert result["c"].progress.reason == "no indicators and no children"


def test_own_indicators_count_as_one_more_child_of_the_mean_weight() -> None:
    node = node_progress(
        "p",
        [Progress.of(Fraction(1)), Progress.of(Fraction(0))],
        [(2, Progress.of(Fraction(0))), (4, Progress.of(Fraction(1)))],
    )
    # children's mean weight 3: (2·0 + 4·1 + 3·½) / 9
    assert node.progress.raw == Fraction(11, 18)
    assert (node.indicators_counted, node.children_counted) == (2, 2)


values = st.decimals(min_value=-(10**13), max_value=10**13, places=6, allow_nan=False, allow_infinity=False)


@given(values, values, values)
def test_indicator_progress_is_bounded_and_reads_the_same_either_way(baseline, target, actual) -> None:  # type: ignore[no-untyped-def]
    p = indicator_progress(baseline, target, actual)
    if target == baseline:
        assert not p.defined
        return
    assert 0 <= p.clamped <= 1
    assert indicator_progress(baseline, target, target).raw == 1
    assert indicator_progress(baseline, target, baseline).raw == 0
    assert indicator_progress(-baseline, -target, -actual) == p  # a decreasing mirror


# A random tree: node i's parent is one of the nodes before it, so node 0 is the root.
@st.composite
def trees(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 12))
    parent_of = {"n0": None} | {f"n{i}": f"n{draw(st.integers(0, i - 1))}" for i in range(1, n)}
    weights = {node: draw(st.integers(1, 50)) for node in parent_of}
    ratio = st.fractions(min_value=-3, max_value=3, max_denominator=1000)
    one = st.one_of(ratio.map(Progress.of), st.just(Progress.undefined("no target for the period")))
    own = {node: draw(st.lists(one, max_size=3)) for node in parent_of}
    return parent_of, weights, own


@given(trees())
def test_roll_ups_stay_within_bounds(tree) -> None:  # type: ignore[no-untyped-def]
    parent_of, weights, own = tree
    result = roll_up("n0", parent_of, weights, own)
    assert set(result) == set(parent_of)
    raws = [p.raw for ps in own.values() for p in ps if p.defined]
    for node in result.values():
        p = node.progress
        if p.defined:
            assert 0 <= p.clamped <= 1 and min(raws) <= p.raw <= max(raws)
        assert node.indicators_counted + node.indicators_left_out == len(own[node.node_id])
    assert result["n0"].progress.defined == bool(raws)


@given(trees(), st.integers(2, 1000))
def test_scaling_every_weight_changes_nothing(tree, k) -> None:  # type: ignore[no-untyped-def]
    parent_of, weights, own = tree
    scaled = {node: w * k for node, w in weights.items()}
    assert roll_up("n0", parent_of, scaled, own) == roll_up("n0", parent_of, weights, own)


@given(trees(), st.integers(1, 50))
def test_a_single_child_is_its_parents_progress(tree, weight) -> None:  # type: ignore[no-untyped-def]
    parent_of, weights, own = tree
    wrapped = {**parent_of, "n0": "top", "top": None}
    result = roll_up("top", wrapped, {**weights, "n0": weight}, own)
    top, child = result["top"].progress, result["n0"].progress
    assert (top.raw, top.clamped) == (child.raw, child.clamped)
    assert (result["top"].children_counted + result["top"].children_left_out) == 1
