"""Events published by the funding service on `regia.funding.v1`, keyed by objective id.

Each carries the line's *resulting* amounts and its version, so a projection can apply
them in any order: it keeps the highest version it has seen and never adds deltas.
"""

from datetime import date

from pydantic import Field

from regia_shared.contracts.events.envelope import EventPayload
from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.contracts.money import Cents, SignedCents

# A CUP (Codice Unico di Progetto), the Italian public investment project code: 15 capital
# letters and digits, e.g. D41B19000120007.
CUP_PATTERN = r"^[A-Z0-9]{15}$"


class FundingLineChanged(EventPayload):
    line_id: str = Field(min_length=1, max_length=100)
    institution_id: str = Field(min_length=1, max_length=100)
    level: GovernmentLevel
    objective_id: str = Field(min_length=1, max_length=100)
    fiscal_year: int = Field(ge=1990, le=2100)
    committed_cents: Cents
    disbursed_cents: Cents
    line_version: int = Field(ge=1)
    delta_cents: SignedCents = Field(description="Change of the commitment by this entry")
    reason: str | None = Field(default=None, max_length=2000)
    instrument_id: str | None = Field(default=None, max_length=100)
    disbursed_delta_cents: SignedCents = Field(default=0, description="Change of the disbursed amount")
    counterpart_line_id: str | None = Field(
        default=None, max_length=100, description="The other line of a reallocation or roll-over"
    )
    # Added in issue 18, optional with a default: consumers of the earlier schema ignore it
    # and events recorded before it read as None (a compatible change, same version).
    cup: str | None = Field(
        default=None, pattern=CUP_PATTERN, description="The line's CUP (Codice Unico di Progetto), if it has one"
    )
    # Added in issue 19, the same way: what people search a line by, and when the act this
    # entry records was made (the commitment's act, the payment), where the source says.
    source_ref: str | None = Field(
        default=None,
        max_length=100,
        description="The source's code for the project (e.g. OpenCoesione's COD_LOCALE_PROGETTO), if the line has one",
    )
    source_status: str | None = Field(
        default=None, max_length=100, description="The project's status as the source writes it (e.g. In corso)"
    )
    act_date: date | None = Field(
        default=None,
        description="The date of the act this entry records (a commitment's act, a payment), if it was given",
    )
    # Added in issue 19, optional with a default: events recorded before it were never history.
    history: bool = Field(
        default=False,
        description="The line is history: money of a closed fiscal year, recorded by an administrator's history "
        "import for the record; it counts in coverage and never alerts",
    )


class FundingCommitted(FundingLineChanged):
    """An institution committed money to an objective for a fiscal year (a new line)."""


class FundingRevised(FundingLineChanged):
    """The commitment of a line was revised, up or down."""


class FundingRevoked(FundingLineChanged):
    """The line was revoked: what was undisbursed is withdrawn and the line is closed."""


class FundingDisbursed(FundingLineChanged):
    """A payment was made on the line."""


class FundingReallocated(FundingLineChanged):
    """Money moved between two lines of one instrument and year (one event per line)."""


class FundingRolledOver(FundingLineChanged):
    """At year-end the undisbursed rest of a line moved to the next fiscal year (one event
    for the closing line, one for the line that receives it)."""
