"""Milestones: reached, due or overdue as they stood on a date."""

from datetime import date

import pytest

from regia_objectives.domain.errors import InvalidMilestoneData
from regia_objectives.domain.milestones import (
    Milestone,
    MilestoneStatus,
    check_reached_on,
    days_late,
    status_of,
)

PROTOCOL = Milestone("protocollo", "miglio-blu", "Protocollo Comune, Regione, cantieri", due_on=date(2019, 6, 30))


@pytest.mark.parametrize(
    ("reached_on", "as_of", "status"),
    [
        (None, date(2019, 6, 1), MilestoneStatus.DUE),
        (None, date(2019, 6, 30), MilestoneStatus.DUE),  # due on the day itself
        (None, date(2019, 7, 1), MilestoneStatus.OVERDUE),
        (date(2019, 5, 20), date(2019, 6, 1), MilestoneStatus.REACHED),
        (date(2019, 9, 1), date(2019, 7, 1), MilestoneStatus.OVERDUE),  # as it stood then
        (date(2019, 9, 1), date(2019, 9, 1), MilestoneStatus.REACHED),
    ],
)
def test_status_as_of_a_date(reached_on, as_of, status) -> None:  # type: ignore[no-untyped-def]
    milestone = Milestone(**{**PROTOCOL.__dict__, "reached_on": reached_on})
    assert status_of(milestone, as_of) is status


def test_days_late() -> None:
    assert days_late(PROTOCOL) == 0
    assert days_late(Milestone(**{**PROTOCOL.__dict__, "reached_on": date(2019, 6, 1)})) == 0
    assert days_late(Milestone(**{**PROTOCOL.__dict__, "reached_on": date(2019, 7, 10)})) == 10


def test_reaching_is_not_dated_in_the_future() -> None:
    check_reached_on(date(2026, 1, 1), date(2026, 1, 1))
    check_reached_on(None, date(2026, 1, 1))
    with pytest.raises(InvalidMilestoneData) as refused:
        check_reached_on(date(2026, 1, 2), date(2026, 1, 1))
    assert refused.value.field == "reached_on" and refused.value.status == 422
