"""The plan file's schema: what each field may hold. The tree's own rules (a child deeper
than its parent, needs within the plan's years, unique ids) are domain.tree's.

Strict types: a YAML `1.5` or `"100"` where cents are expected is refused, never rounded or
parsed. Text must survive a round trip through YAML unchanged, so control characters and
Unicode line separators are refused (a description may have newlines and tabs).
"""

import unicodedata
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from regia_shared.contracts.money import Cents

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
NODE_FIELDS = ("id", "kind", "title", "weight", "lead", "needs", "illustrative", "children")


class NodeDocument(BaseModel):
    """A vision, programme, objective or action, with the nodes under it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    kind: NodeKind
    title: Line
    weight: Annotated[StrictInt, Field(ge=1, le=1_000_000)] = 1
    lead: Slug | None = Field(default=None, description="The partner id of the node's lead")
    needs: dict[Year, Cents] = Field(
        default_factory=dict, max_length=111, description="Budget need per fiscal year, in euro cents"
    )
    illustrative: StrictBool = Field(default=False, description="Figures the source does not give")
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
