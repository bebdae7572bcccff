"""What an institution asks the funding service to do, as validated commands.

The wire names are the `type` discriminator of the request body, so a body with a wrong or
missing type is refused naming that field. Amounts are strict integer cents in euro: a
float, a numeric string or another currency is refused, never converted. Years and
versions are strict JSON integers too: "2027", 2027.0 or true is refused, not coerced.
"""

import re
import unicodedata
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    TypeAdapter,
    model_validator,
)

from regia_shared.contracts.events.funding import CUP_PATTERN
from regia_shared.contracts.money import Cents

Slug = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
LineId = Slug
ObjectiveId = Slug
InstrumentId = Slug
# No NUL: PostgreSQL text refuses it, and a Kafka command would fail in SQL on every retry.
Reason = Annotated[str | None, Field(default=None, max_length=2000, pattern=r"^[^\x00]*$")]
PositiveCents = Annotated[Cents, Field(gt=0)]


def _cup(value: str) -> str:
    # Checked here rather than with `pattern=`, so the refusal says what a CUP is instead of
    # quoting a regular expression.
    if not re.fullmatch(CUP_PATTERN, value):
        raise ValueError(
            "cup must be a CUP (Codice Unico di Progetto): 15 capital letters and digits, e.g. D41B19000120007"
        )
    return value


Cup = Annotated[
    str,
    AfterValidator(_cup),
    # The pattern is shown in the schema, but checked by `_cup` for its message.
    Field(
        description="CUP (Codice Unico di Progetto): 15 capital letters and digits",
        examples=["D41B19000120007"],
        json_schema_extra={"pattern": CUP_PATTERN},
    ),
]


# Issue 19: what people search a line by besides the CUP, and when its acts were made.


def _printable(name: str) -> Any:
    """A validator of a source's free text: 1 to 100 characters, none of them a control
    character (NUL, a line break, a tab, ...) or a line separator, which would break a
    CSV export's row or PostgreSQL's text, and never only blanks."""

    def check(value: str) -> str:
        if not value.strip():
            raise ValueError(f"{name} must not be empty or only blanks")
        if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in value):
            raise ValueError(f"{name} must be printable: no control character (NUL, line break, tab) in it")
        return value

    return AfterValidator(check)


SourceRef = Annotated[
    str,
    Field(
        max_length=100,
        description="The source's own code for the project, e.g. OpenCoesione's COD_LOCALE_PROGETTO",
        examples=["1MISE123"],
    ),
    _printable("source_ref"),
]
SourceStatus = Annotated[
    str,
    Field(
        max_length=100,
        description="The project's status as the source writes it",
        examples=["In corso", "Concluso"],
    ),
    _printable("source_status"),
]
FIRST_ACT_DATE, LAST_ACT_DATE = date(1990, 1, 1), date(2100, 12, 31)


def _act_date(value: object) -> date:
    # Strict: an ISO calendar date and nothing else. A timestamp, "2027-3-1", 20270301 or
    # a Python datetime would each be read some way by a lax parser; refused here instead.
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"act_date {value!r} is not a day of the calendar") from None
    if type(value) is not date:
        raise ValueError("act_date must be an ISO date, YYYY-MM-DD (e.g. 2027-03-01)")
    if not FIRST_ACT_DATE <= value <= LAST_ACT_DATE:
        raise ValueError(f"act_date must be between {FIRST_ACT_DATE} and {LAST_ACT_DATE}")
    return value


ActDate = Annotated[
    date,
    BeforeValidator(_act_date),
    Field(description="The date of the act, YYYY-MM-DD, between 1990-01-01 and 2100-12-31"),
]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    line_id: LineId
    reason: Reason = None
    currency: Literal["EUR"] = Field(default="EUR", description="Only euro is accepted")
    expected_version: StrictInt | None = Field(
        default=None,
        ge=0,
        description="Optimistic concurrency: the line version you last saw "
        "(0 for a line that must not exist yet); the If-Match header says the same",
    )


class CommitFunding(_Command):
    """Open a funding line: commit an instrument's money to an objective for a fiscal year."""

    type: Literal["commitment"]
    instrument_id: InstrumentId
    objective_id: ObjectiveId
    fiscal_year: StrictInt
    committed_cents: PositiveCents
    cup: Cup | None = None
    source_ref: SourceRef | None = None
    source_status: SourceStatus | None = None
    act_date: ActDate | None = Field(default=None, description="The date of the act that committed the money")


class ReviseFunding(_Command):
    """Set a line's commitment to a new amount, up or down."""

    type: Literal["revision"]
    committed_cents: Cents


class DisburseFunding(_Command):
    """Record a payment made on a line."""

    type: Literal["disbursement"]
    amount_cents: PositiveCents
    act_date: ActDate | None = Field(default=None, description="The date of the payment")


class RevokeFunding(_Command):
    """Withdraw what is still undisbursed on a line and close it."""

    type: Literal["revocation"]


class ReallocateFunding(_Command):
    """Move committed, undisbursed money of a line to another objective: onto `to_line_id`,
    an existing line of the same instrument and year, or a new line opened for it."""

    type: Literal["reallocation"]
    amount_cents: PositiveCents
    to_line_id: LineId
    to_objective_id: ObjectiveId | None = Field(default=None, description="Required when to_line_id does not exist yet")

    @model_validator(mode="after")
    def different_lines(self) -> "ReallocateFunding":
        if self.to_line_id == self.line_id:
            raise ValueError("to_line_id must differ from line_id")
        return self


FundingCommand = Annotated[
    CommitFunding | ReviseFunding | DisburseFunding | RevokeFunding | ReallocateFunding,
    Field(discriminator="type"),
]
COMMAND_TYPES = ("commitment", "revision", "disbursement", "revocation", "reallocation")
# One command's validator, for every way in that reads a command on its own (a Kafka
# message, a single event over HTTP on its fast path).
COMMAND: TypeAdapter[FundingCommand] = TypeAdapter(FundingCommand)


# Fields commands gained after requests were first recorded (cup in issue 18, the rest in
# issue 19): absent from the fingerprint when not given.
ADDED_LATER = ("cup", "source_ref", "source_status", "act_date")


def wire(command: Any) -> dict[str, Any]:
    """A command as its Idempotency-Key fingerprint hashes it: its JSON, without the fields
    added later that it does not carry, so that a request recorded before they existed and
    sent again after keeps its fingerprint (and replays instead of being refused as a reuse)."""
    body: dict[str, Any] = command.model_dump(mode="json")
    for name in ADDED_LATER:
        if body.get(name, "") is None:
            del body[name]
    return body
