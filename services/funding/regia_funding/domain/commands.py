"""What an institution asks the funding service to do, as validated commands.

The wire names (`commitment`, `revision`, `revocation`) are the `type` discriminator of the
request body, so a body with a wrong or missing type is refused naming that field.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from regia_shared.money import Cents

LineId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
ObjectiveId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
Reason = Annotated[str | None, Field(default=None, max_length=2000)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    line_id: LineId
    reason: Reason = None
    expected_version: int | None = Field(
        default=None, ge=0, description="Optimistic concurrency: the line version you last saw"
    )


class CommitFunding(_Command):
    """Open a funding line: commit money to an objective for a fiscal year."""

    type: Literal["commitment"]
    objective_id: ObjectiveId
    fiscal_year: int
    committed_cents: Cents = Field(gt=0)


class ReviseFunding(_Command):
    """Set a line's commitment to a new amount, up or down."""

    type: Literal["revision"]
    committed_cents: Cents


class RevokeFunding(_Command):
    """Withdraw a line's commitment entirely."""

    type: Literal["revocation"]


FundingCommand = Annotated[CommitFunding | ReviseFunding | RevokeFunding, Field(discriminator="type")]
