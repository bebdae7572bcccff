"""The three rules behind the alerts people asked for, each firing on the transition only:
an objective-year's money coming to depend on one level of government, a milestone going
overdue, an indicator falling behind its target path. Pure."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regia_objectives.domain.coverage import YearCoverage, narrowed_to_one_level
from regia_objectives.domain.indicators import Direction, Indicator, Measurement
from regia_objectives.domain.milestones import Milestone, known_overdue_at_definition, overdue_news
from regia_objectives.domain.progress import expected_share, fell_behind, on_path

# --- one level of government -------------------------------------------------------------


def year(**by_level: int) -> YearCoverage:
    return YearCoverage("miglio-blu", 2027, 5_000_000_00, sum(by_level.values()), 0, dict(sorted(by_level.items())))


SPREAD = year(REGIONE=4_000_000_00, STATO=500_000_00)


@pytest.mark.parametrize(
    ("before", "now", "level"),
    [
        (SPREAD, year(REGIONE=4_000_000_00), "REGIONE"),  # the State left
        (SPREAD, year(STATO=500_000_00), "STATO"),  # the Region left
        (year(REGIONE=1, STATO=1, EU=1), year(EU=7), "EU"),  # three levels to one
        (SPREAD, year(REGIONE=3_000_000_00, STATO=500_000_00), None),  # a cut, still two levels
        (SPREAD, year(), None),  # nothing left: a drop, not a dependency
        (year(REGIONE=4_000_000_00), year(REGIONE=3_000_000_00), None),  # one level already
        (year(REGIONE=4_000_000_00), year(STATO=4_000_000_00), None),  # one sole funder for another
        (year(), year(REGIONE=1), None),  # the first money of the year
        (year(REGIONE=1, STATO=0), year(REGIONE=2), None),  # a level with nothing is no level
        (None, year(REGIONE=4_000_000_00), None),  # the year's first coverage
    ],
)
def test_money_narrows_to_one_level_only_on_the_transition(
    before: YearCoverage | None, now: YearCoverage, level: str | None
) -> None:
    assert narrowed_to_one_level(before, now) == level


@given(st.dictionaries(st.sampled_from(["COMUNE", "REGIONE", "STATO", "EU"]), st.integers(0, 10**6)))
def test_once_narrowed_it_does_not_narrow_again_until_spread_anew(by_level: dict[str, int]) -> None:
    """Whatever comes next, a year already on one level (or on none) never narrows again."""
    alone = year(REGIONE=100)
    assert narrowed_to_one_level(alone, year(**by_level)) is None


# --- milestones ----------------------------------------------------------------------------

BANDO = Milestone("bando", "miglio-blu", "Bando per i cantieri pubblicato", due_on=date(2027, 3, 15))


def moved(due_on: date, reached_on: date | None = None) -> Milestone:
    return Milestone(BANDO.milestone_id, BANDO.objective_id, BANDO.title, due_on, reached_on=reached_on)


@pytest.mark.parametrize(
    ("milestone", "announced_for", "today", "news"),
    [
        (BANDO, None, date(2027, 3, 15), False),  # due on the day itself
        (BANDO, None, date(2027, 3, 16), True),  # the day after: overdue
        (BANDO, None, date(2028, 1, 1), True),  # found late (the service was down): still news
        (BANDO, date(2027, 3, 15), date(2027, 3, 17), False),  # announced already
        (moved(date(2027, 3, 15), date(2027, 3, 10)), None, date(2027, 3, 16), False),  # reached in time
        (moved(date(2027, 3, 15), date(2027, 3, 20)), None, date(2027, 3, 16), True),  # reached later than that
        (moved(date(2027, 4, 30)), date(2027, 3, 15), date(2027, 4, 1), False),  # moved on, not due yet
        (moved(date(2027, 4, 30)), date(2027, 3, 15), date(2027, 5, 1), True),  # ...and missed again
        (moved(date(2027, 3, 1)), date(2027, 3, 15), date(2027, 4, 1), False),  # corrected earlier
    ],
)
def test_a_milestone_going_overdue_is_news_once_per_due_date_it_misses(
    milestone: Milestone, announced_for: date | None, today: date, news: bool
) -> None:
    assert overdue_news(milestone, announced_for, today) is news


def test_a_milestone_defined_already_overdue_counts_as_announced() -> None:
    assert known_overdue_at_definition(BANDO, date(2027, 4, 1)) == BANDO.due_on
    assert overdue_news(BANDO, known_overdue_at_definition(BANDO, date(2027, 4, 1)), date(2027, 4, 2)) is False
    assert known_overdue_at_definition(BANDO, date(2027, 3, 15)) is None  # due: it will be announced
    assert known_overdue_at_definition(moved(date(2027, 3, 15), date(2027, 3, 1)), date(2027, 4, 1)) is None


# --- indicators ----------------------------------------------------------------------------

# Jobs in the Miglio Blu: 1,000 at the end of 2024, 1,200 targeted for the end of 2026.
JOBS = Indicator("posti", "miglio-blu", "Posti di lavoro", "posti", Direction.INCREASING, Decimal(1000), 2024)
TARGETS = {2026: Decimal(1200), 2025: Decimal(1100)}
# Unemployment, 12 % at the end of 2024, 8 % targeted for the end of 2026: less is better.
UNEMPLOYMENT = Indicator("disoccupazione", "miglio-blu", "Disoccupazione", "%", Direction.DECREASING, Decimal(12), 2024)


def m(day: str, value: int | str) -> Measurement:
    return Measurement(date.fromisoformat(day), Decimal(value))


def test_the_path_runs_straight_from_the_baseline_years_end_to_the_targets_due_date() -> None:
    assert expected_share(2024, 2026, date(2024, 6, 30)) == 0  # the baseline still stands
    assert expected_share(2024, 2026, date(2024, 12, 31)) == 0
    assert expected_share(2024, 2026, date(2025, 12, 31)) == Fraction(365, 730)
    assert expected_share(2024, 2026, date(2026, 12, 31)) == 1
    assert expected_share(2024, 2026, date(2027, 6, 30)) == 1
    assert expected_share(2024, 2024, date(2024, 3, 1)) == 1  # a target for the baseline year itself
    check = on_path(JOBS, TARGETS, m("2026-07-02", 1150))
    assert check is not None and check.fiscal_year == 2026 and check.target == 1200
    # 2026-07-02 is day 548 of 730: the path expects 1,000 + 200 · 548/730 ≈ 1,150.14.
    assert check.expected == Fraction(548, 730) and check.expected_value == 1000 + Fraction(200 * 548, 730)
    assert check.progress == Fraction(3, 4) and check.behind  # 0.75 < 0.7507
    assert on_path(JOBS, TARGETS, m("2027-03-01", 1300)) is None  # no target for 2027
    assert on_path(JOBS, {2026: Decimal(1000)}, m("2026-03-01", 900)) is None  # target = baseline


@pytest.mark.parametrize(
    ("history", "latest", "falls"),
    [
        ([], m("2026-07-02", 1150), True),  # the first value, behind: nothing was on track before
        ([m("2026-03-01", 1120)], m("2026-07-02", 1150), True),  # on track, then behind
        ([m("2026-03-01", 1050)], m("2026-07-02", 1150), False),  # behind already: said then
        ([m("2026-03-01", 1120)], m("2026-07-02", 1160), False),  # still on track
        ([m("2025-12-31", 1100)], m("2026-07-02", 1150), True),  # on 2025's path, behind 2026's
        ([m("2024-12-31", 900)], m("2026-07-02", 1150), True),  # before: undefined (no 2024 target)
        ([m("2026-09-01", 1190)], m("2026-07-02", 1150), False),  # back-dated: not what holds now
        ([m("2026-03-01", 1120)], m("2027-02-01", 1150), False),  # no target for 2027: undefined
    ],
)
def test_an_indicator_falls_behind_only_when_the_value_in_force_was_not_behind(
    history: list[Measurement], latest: Measurement, falls: bool
) -> None:
    found = fell_behind(JOBS, TARGETS, sorted([*history, latest], key=lambda x: x.measured_on), latest)
    assert (found is not None) is falls
    if found is not None:
        previous = [h for h in history if h.measured_on < latest.measured_on]
        assert found.previous == (previous[-1] if previous else None)
        assert found.check.measurement == latest


def test_a_decreasing_indicator_is_behind_when_it_falls_more_slowly_than_the_path() -> None:
    targets = {2026: Decimal(8)}
    # Halfway along the path (end of 2025) it should be at 10 %: 10.5 % is behind, 9.9 % ahead.
    assert fell_behind(UNEMPLOYMENT, targets, [m("2025-12-31", "10.5")], m("2025-12-31", "10.5")) is None  # no 2025
    on_track, behind = m("2026-01-31", "9.5"), m("2026-07-02", "10.5")
    found = fell_behind(UNEMPLOYMENT, targets, [on_track, behind], behind)
    assert found is not None and found.previous == on_track
    assert found.check.progress == Fraction(3, 8) and found.check.expected_value < Decimal("10.5")
    assert fell_behind(UNEMPLOYMENT, targets, [on_track], on_track) is None


def test_exactly_on_the_path_is_on_track_and_a_millionth_short_is_behind() -> None:
    # 2026-03-14 is day 438 of the path's 730: it expects 1,000 + 200 · 438/730 = 1,120 jobs.
    assert on_path(JOBS, TARGETS, m("2026-03-14", 1120)).behind is False  # type: ignore[union-attr]
    assert on_path(JOBS, TARGETS, m("2026-03-14", "1119.999999")).behind is True  # type: ignore[union-attr]


@given(st.integers(0, 364), st.integers(-(10**9), 10**9))
def test_behind_is_exactly_less_than_the_path_expects_that_day(day: int, millionths: int) -> None:
    on = date(2026, 1, 1) + timedelta(days=day)
    value = Decimal(1150) + Decimal(millionths).scaleb(-6)
    check = on_path(JOBS, TARGETS, Measurement(on, value))
    assert check is not None
    assert check.behind is (Fraction(value) < 1000 + 200 * expected_share(2024, 2026, on))
