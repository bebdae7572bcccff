"""The plan file's schema: what each field may hold. The tree's own rules (a child deeper
than its parent, needs within the plan's years, unique ids) are domain.tree's.

Strict types: a YAML `1.5` or `"100"` where cents are expected is refused, never rounded or
parsed. Text must survive a round trip through YAML unchanged, so control characters and
Unicode line separators are refused (a description may have newlines and tabs).
"""

import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from regia_shared.contracts.money import Cents

from .indicators import Direction
from .tree import NodeKind

SLUG = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
REFUSED_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}  # controls, lone surrogates, line/paragraph separators


def _text(allowed: str) -> Callable[[str], str]:
    """A validator for text that may hold these whitespace characters besides spaces."""

    def check(value: str) -> str:
        for char in value:
            if char not in allowed and (unicodedata.category(char) in REFUSED_CATEGORIES or char == "\ufeff"):
                raise ValueError(f"must not contain the control character U+{ord(char):04X}")
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    return check


Slug = Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=SLUG)]
Line = Annotated[StrictStr, Field(min_length=1, max_length=500), AfterValidator(_text(""))]
Text = Annotated[StrictStr, Field(min_length=1, max_length=20_000), AfterValidator(_text("\n\t"))]
Year = Annotated[StrictInt, Field(ge=1990, le=2100)]
Pct = Annotated[StrictInt, Field(ge=1, le=100)]

PLAN_FIELDS = (
    "id",
    "title",
    "territory",
    "population",
    "first_year",
    "last_year",
    "at_risk_threshold_pct",
    "single_level_warning_pct",
    "description",
    "nodes",
)
NODE_FIELDS = (
    "id",
    "kind",
    "title",
    "weight",
    "lead",
    "roles",
    "needs",
    "illustrative",
    "indicators",
    "milestones",
    "children",
)
INDICATOR_FIELDS = ("id", "name", "unit", "direction", "baseline", "targets", "description")
BASELINE_FIELDS = ("value", "year")
MILESTONE_FIELDS = ("id", "title", "due_on", "reached_on", "description")
ROLE_FIELDS = ("partner", "role")


def _exact(value: object) -> object:
    """An indicator's value: an integer, or a decimal written as text ('12.5'). A YAML 12.5
    is a binary float, which cannot hold most decimals exactly: refused, never rounded."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        if isinstance(value, float):
            raise ValueError(f"write a decimal in quotes, e.g. '{value}': a number with a point is not exact in YAML")
        raise ValueError("must be a number: an integer, or a decimal in quotes such as '12.5'")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError("must be a finite number")
    return number


def _day(value: object) -> object:
    """A date as YAML writes one (2027-03-31, or the same in quotes); a time of day is not a date."""
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


# numeric(20,6)'s bounds, as the indicators API has them.
Exact = Annotated[Decimal, BeforeValidator(_exact), Field(max_digits=20, decimal_places=6, gt=-(10**14), lt=10**14)]
Day = Annotated[date, BeforeValidator(_day)]


class PlanRole(StrEnum):
    """The roles a file may give besides the lead (which is the node's `lead:`)."""

    IMPLEMENTING_BODY = "IMPLEMENTING_BODY"
    PROGRAMME_LEAD = "PROGRAMME_LEAD"
    PARTNER = "PARTNER"
    FUNDER = "FUNDER"


class RoleDocument(BaseModel):
    """A partner's role on the node (the lead is the node's `lead:`, not a role here)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partner: Slug
    role: PlanRole


class BaselineDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Exact
    year: Year


class IndicatorDocument(BaseModel):
    """An indicator of the node, with a target per fiscal year (as the indicators API)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    name: Annotated[Line, Field(max_length=300)]
    unit: Annotated[Line, Field(max_length=50)]
    direction: Direction
    baseline: BaselineDocument
    targets: dict[Year, Exact] = Field(default_factory=dict, max_length=111)
    description: Annotated[Text, Field(max_length=2000)] | None = None


class MilestoneDocument(BaseModel):
    """A dated step of the node; `reached_on` once it is reached."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    title: Line
    due_on: Day
    reached_on: Day | None = None
    description: Annotated[Text, Field(max_length=2000)] | None = None


class NodeDocument(BaseModel):
    """A vision, programme, objective or action, with the nodes under it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    kind: NodeKind
    title: Line
    weight: Annotated[StrictInt, Field(ge=1, le=1_000_000)] = 1
    lead: Slug | None = Field(default=None, description="The partner id of the node's lead")
    # None (the key absent): the import leaves the node's roles, indicators or milestones
    # as they are; a list, even empty, is the whole set.
    roles: list[RoleDocument] | None = Field(default=None, max_length=1000)
    needs: dict[Year, Cents] = Field(
        default_factory=dict, max_length=111, description="Budget need per fiscal year, in euro cents"
    )
    illustrative: StrictBool = Field(default=False, description="Figures the source does not give")
    indicators: list[IndicatorDocument] | None = Field(default=None, max_length=1000)
    milestones: list[MilestoneDocument] | None = Field(default=None, max_length=1000)
    children: list["NodeDocument"] = Field(default_factory=list)


class PlanDocument(BaseModel):
    """A whole plan file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    title: Line
    territory: Line
    population: Annotated[StrictInt, Field(ge=0, le=2_000_000_000)] | None = None
    first_year: Year
    last_year: Year
    at_risk_threshold_pct: Pct = 80
    single_level_warning_pct: Pct = 75
    description: Text | None = None
    nodes: list[NodeDocument] = Field(default_factory=list)
