"""Alert rules: which occurrences reach which audiences. Rules are data (the
`alert_rules` table, edited by administrators); this module only says what a rule means.
Pure.
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .occurrences import FundingDrop, Occurrence, StatusChange, Trigger


class Audience(StrEnum):
    # Partners holding a role on the occurrence's objective(s).
    LEAD = "LEAD"
    IMPLEMENTING_BODY = "IMPLEMENTING_BODY"
    PROGRAMME_LEAD = "PROGRAMME_LEAD"
    PARTNER = "PARTNER"
    FUNDER = "FUNDER"
    # The institution whose line was revoked (line_revoked only).
    LINE_INSTITUTION = "LINE_INSTITUTION"
    # Members, on the day of the occurrence, of networks formed around the objective(s).
    NETWORK_MEMBERS = "NETWORK_MEMBERS"


ROLE_AUDIENCES = frozenset(
    {Audience.LEAD, Audience.IMPLEMENTING_BODY, Audience.PROGRAMME_LEAD, Audience.PARTNER, Audience.FUNDER}
)

DEFAULT_MIN_DROP_PCT = 10

RULE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class RuleSpec(BaseModel):
    """A rule's content, as an administrator writes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trigger: Trigger
    audience: Annotated[list[Audience], Field(min_length=1)]
    direction: Literal["worsened", "improved", "any"] | None = Field(
        None, description="status_changed only: which changes match (default any)"
    )
    min_drop_pct: Annotated[int | None, Field(ge=1, le=100)] = Field(
        None,
        description="funding_dropped only: the smallest drop, in % of the committed "
        "amount before it, that matches (default 10)",
    )
    enabled: bool = True
    description: Annotated[str, Field(max_length=500)] = ""

    @model_validator(mode="after")
    def _conditions_fit_the_trigger(self) -> "RuleSpec":
        if self.direction is not None and self.trigger is not Trigger.STATUS_CHANGED:
            raise ValueError("direction applies to status_changed rules only")
        if self.min_drop_pct is not None and self.trigger is not Trigger.FUNDING_DROPPED:
            raise ValueError("min_drop_pct applies to funding_dropped rules only")
        if Audience.LINE_INSTITUTION in self.audience and self.trigger is not Trigger.LINE_REVOKED:
            raise ValueError("LINE_INSTITUTION is an audience of line_revoked rules only")
        return self

    @property
    def condition(self) -> dict[str, object]:
        """The trigger-specific part, as stored in the rule's `condition` column."""
        return {k: v for k, v in (("direction", self.direction), ("min_drop_pct", self.min_drop_pct)) if v is not None}

    def matches(self, occurrence: Occurrence) -> bool:
        if not self.enabled or occurrence.trigger is not self.trigger:
            return False
        if isinstance(occurrence, StatusChange):
            if occurrence.first:
                return False  # a year's first status is never an alert (see occurrences.silenced)
            direction = self.direction or "any"
            return direction == "any" or (direction == "worsened") == occurrence.worsened
        if isinstance(occurrence, FundingDrop):
            # "More than" the share: a drop of exactly 10 % does not match a 10 % rule.
            return occurrence.drops_more_than(self.min_drop_pct or DEFAULT_MIN_DROP_PCT)
        return True


class Rule(RuleSpec):
    rule_id: Annotated[str, Field(pattern=RULE_ID)]


def matching(rules: list[Rule], occurrence: Occurrence) -> list[Rule]:
    return [rule for rule in rules if rule.matches(occurrence)]


def audiences(rules: list[Rule]) -> dict[Audience, list[str]]:
    """Each audience the matching rules name, with the rules that named it."""
    named: dict[Audience, list[str]] = {}
    for rule in rules:
        for audience in rule.audience:
            named.setdefault(audience, []).append(rule.rule_id)
    return named
