"""What an administrator asks of the objectives service."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from regia_shared.contracts.money import Cents

ObjectiveId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
FiscalYear = Annotated[int, Field(ge=1990, le=2100)]
# No control characters: a title becomes an e-mail subject, where a line break would forge a header.
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"


class YearNeedInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fiscal_year: FiscalYear
    need_cents: Cents


class DefineObjective(BaseModel):
    """Define an objective with its budget need per fiscal year."""

    model_config = ConfigDict(extra="forbid")

    objective_id: ObjectiveId
    title: str = Field(min_length=1, max_length=500, pattern=ONE_LINE)  # an e-mail subject
    at_risk_threshold_pct: int | None = Field(default=None, ge=1, le=100)
    needs: list[YearNeedInput] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def one_need_per_year(self) -> "DefineObjective":
        years = [n.fiscal_year for n in self.needs]
        if len(years) != len(set(years)):
            raise ValueError("needs: each fiscal_year may appear only once")
        return self


class SetNeed(BaseModel):
    """Set an objective's budget need for one fiscal year."""

    model_config = ConfigDict(extra="forbid")

    need_cents: Cents
