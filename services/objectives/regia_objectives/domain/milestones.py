"""Milestones on a node of the plan tree: a dated step (a protocol signed, a call for
tenders published, a training course started) and whether it was reached in time. Pure
rules, no I/O.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .commands import ObjectiveId
from .errors import InvalidMilestoneData
from .indicators import IsoDate, Text


class MilestoneStatus(StrEnum):
    REACHED = "REACHED"
    DUE = "DUE"  # not reached, not late yet
    OVERDUE = "OVERDUE"


@dataclass(frozen=True)
class Milestone:
    milestone_id: str
    objective_id: str
    title: str
    due_on: date
    description: str | None = None
    reached_on: date | None = None


def status_of(milestone: Milestone, as_of: date) -> MilestoneStatus:
    """The status on `as_of`, so a past review reads as it stood then: a milestone reached
    after that date was still due (or overdue) on it. Due on the day itself, overdue after."""
    if milestone.reached_on is not None and milestone.reached_on <= as_of:
        return MilestoneStatus.REACHED
    return MilestoneStatus.DUE if as_of <= milestone.due_on else MilestoneStatus.OVERDUE


def days_late(milestone: Milestone) -> int:
    """How many days after its due date it was reached (0 if on time or not reached)."""
    if milestone.reached_on is None:
        return 0
    return max((milestone.reached_on - milestone.due_on).days, 0)


def check_reached_on(reached_on: date | None, today: date, field: str = "reached_on") -> None:
    """Reaching is a fact, so it cannot be dated in the future."""
    if reached_on is not None and reached_on > today:
        raise InvalidMilestoneData(f"{field} {reached_on} is in the future (today is {today})", field)


# What an administrator sends.
Title = Annotated[Text, Field(max_length=500)]
Description = Annotated[Text, Field(max_length=2000)]


class DefineMilestone(BaseModel):
    model_config = ConfigDict(extra="forbid")
    milestone_id: ObjectiveId
    title: Title
    due_on: IsoDate
    description: Description | None = None
    reached_on: IsoDate | None = None

    def milestone(self, objective_id: str) -> Milestone:
        return Milestone(self.milestone_id, objective_id, self.title, self.due_on, self.description, self.reached_on)


class ChangeMilestone(BaseModel):
    """Only the fields sent change: `{"reached_on": "2027-03-01"}` marks it reached,
    `{"reached_on": null}` reopens it (a correction)."""

    model_config = ConfigDict(extra="forbid")
    title: Title | None = None
    due_on: IsoDate | None = None
    description: Description | None = None
    reached_on: IsoDate | None = None

    @field_validator("title", "due_on")
    @classmethod
    def not_null(cls, value: object) -> object:  # runs only on fields that were sent
        if value is None:
            raise ValueError("cannot be null")
        return value

    @model_validator(mode="after")
    def something(self) -> "ChangeMilestone":
        if not self.model_fields_set:
            raise ValueError("send at least one of title, due_on, description, reached_on")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


def overdue_news(milestone: Milestone, announced_for: date | None, today: date) -> bool:
    """Whether the milestone's going overdue is to be announced today: it is overdue, and
    its due date is later than the one last announced (or none was). So each due date a
    milestone misses is announced once; moving the date on re-arms it, and missing the new
    date is news again; correcting it to an earlier date, or reopening a milestone already
    announced, is not. (The sweep's query selects exactly these: adapters.milestones.)"""
    if status_of(milestone, today) is not MilestoneStatus.OVERDUE:
        return False
    return announced_for is None or milestone.due_on > announced_for


def known_overdue_at_definition(milestone: Milestone, today: date) -> date | None:
    """The due date taken as announced for a milestone defined already overdue: defining
    it records history, which is no news to announce (as an objective-year's first status
    is no alert); None for one defined due, whose going overdue will be announced."""
    return milestone.due_on if status_of(milestone, today) is MilestoneStatus.OVERDUE else None
