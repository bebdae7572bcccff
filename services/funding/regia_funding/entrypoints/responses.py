"""What the funding routes answer, as typed models: so that OpenAPI shows each success
response's real schema (not `{}`), and a route cannot answer a field its model lacks.

The models describe answers the routes already gave as plain dicts, field for field: a
client that read them before reads them the same."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from regia_shared.contracts.levels import GovernmentLevel

from ..domain.line import EntryKind, LineStatus

IS_HISTORY = (
    "The line is history: money of a closed fiscal year recorded by an administrator's history import, "
    "for the record (counted in coverage, never an open commitment, never an alert)"
)


class Counterpart(BaseModel):
    """The other line of a reallocation."""

    line_id: str
    line_version: int
    committed_cents: int
    event_id: str


class FundingResult(BaseModel):
    """What one recorded command did: its (first) ledger entry and the line as it left it."""

    event_id: str
    event_type: str = Field(examples=["FundingCommitted"])
    entry_id: int
    line_id: str
    line_version: int
    committed_cents: int
    disbursed_cents: int
    status: LineStatus
    counterpart: Counterpart | None = Field(default=None, description="Only for a reallocation")


class BatchResult(BaseModel):
    """A batch's or an import's answer: one result per event, in the order sent."""

    results: list[FundingResult]


class LedgerEntryItem(BaseModel):
    """One entry of the append-only ledger: what changed a line, by whom, how and why."""

    entry_id: int
    line_id: str
    line_version: int
    kind: EntryKind
    committed_delta_cents: int
    disbursed_delta_cents: int
    committed_after: int
    disbursed_after: int
    reason: str | None
    pushed_by: str = Field(description="The institution, or `admin` for an import or the roll-over")
    channel: str = Field(examples=["http", "kafka", "import:opencoesione", "history:opencoesione", "year-end"])
    counterpart_line_id: str | None
    event_id: UUID
    recorded_at: datetime = Field(description="When Regia recorded the entry")
    act_date: date | None = Field(
        description="The date of the act it records (a commitment's act, a payment), if the command gave one"
    )


class FundingLineItem(BaseModel):
    """A line as the list shows it (its history is at GET /v1/funding-lines/{line_id})."""

    line_id: str
    institution_id: str
    instrument_id: str
    level: GovernmentLevel
    objective_id: str
    fiscal_year: int
    cup: str | None = Field(description="CUP (Codice Unico di Progetto), if the commitment named one")
    source_ref: str | None = Field(description="The source's code for the project, if the commitment named one")
    source_status: str | None = Field(description="The project's status as the source wrote it, if given")
    committed_cents: int
    disbursed_cents: int
    version: int
    status: LineStatus
    updated_at: datetime = Field(description="When the line last changed")
    # Named is_history, not history, because a line's document already answers `history`
    # (its ledger); read from the `history` column, which the list's filter is named after.
    is_history: bool = Field(default=False, validation_alias="history", description=IS_HISTORY)


class FundingLineDetail(BaseModel):
    """A line and its full ledger history."""

    line_id: str
    institution_id: str
    instrument_id: str
    level: GovernmentLevel
    objective_id: str
    fiscal_year: int
    cup: str | None
    source_ref: str | None
    source_status: str | None
    committed_cents: int
    disbursed_cents: int
    version: int
    status: LineStatus
    is_history: bool = Field(default=False, description=IS_HISTORY)
    history: list[LedgerEntryItem]


class TotalsRow(BaseModel):
    """One group of the totals: the dimensions asked for with `by` (only those), and the
    sums of its lines."""

    level: GovernmentLevel | None = None
    instrument_id: str | None = None
    objective_id: str | None = None
    fiscal_year: int | None = None
    institution_id: str | None = None
    history: bool | None = Field(default=None, description="With by=history: history lines (true) or not (false)")
    committed_cents: int
    disbursed_cents: int
    lines: int = Field(description="Lines counted (with as_of, those that existed then)")


class KeyIssued(BaseModel):
    key_id: str
    institution_id: str
    instruments: list[str] | None
    key: str = Field(description="Shown once, never stored: only its SHA-256 is kept")


class KeyInfo(BaseModel):
    key_id: str
    label: str | None
    instruments: list[str] | None
    created_at: datetime
    revoked_at: datetime | None


class Institution(BaseModel):
    institution_id: str
    name: str
    level: GovernmentLevel


class Instrument(BaseModel):
    instrument_id: str
    institution_id: str
    name: str
    kind: str = Field(examples=["budget", "programme", "fund", "private"])


class KnownObjective(BaseModel):
    objective_id: str
    title: str
    updated_at: datetime


class BudgetWindow(BaseModel):
    first_year: int
    last_year: int


class Redirected(BaseModel):
    line_id: str
    to_line_id: str
    because: str


class RollOverResult(BaseModel):
    closed_year: int
    lines_rolled: int
    cents_rolled: int
    window: BudgetWindow
    redirected: list[Redirected]


class LineDifference(BaseModel):
    line_id: str
    from_ledger: tuple[int, int, int] | None = Field(description="(committed, disbursed, version) rebuilt")
    held: tuple[int, int, int] | None = Field(description="(committed, disbursed, version) the line holds")


class OwnerChange(BaseModel):
    entry_id: int
    kind: str | None
    line_id: str
    counterpart_line_id: str | None
    problem: str


class LedgerVerification(BaseModel):
    lines: int
    consistent: bool
    differences: list[LineDifference] = Field(description="The first 100")
    owner_changes: list[OwnerChange] = Field(description="The first 100")


# The streamed ledger export's two media types, for OpenAPI (a streamed body has no model).
LEDGER_EXPORT_CONTENT: dict[str, Any] = {
    "text/csv": {
        "schema": {"type": "string"},
        "example": "entry_id,recorded_at,institution_id,institution_name,level,...\r\n",
    },
    "application/json": {
        "schema": {
            "type": "object",
            "description": "IATI-style activity transactions",
            "properties": {
                "iati-version": {"type": "string"},
                "generated-datetime": {"type": "string", "format": "date-time"},
                "default-currency": {"type": "string", "const": "EUR"},
                "filters": {"type": "object"},
                "transactions": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


class ImportRun(BaseModel):
    """What an import run has recorded so far, kept by the bulk import in the same
    transaction as the rows (so a resumed run knows, exactly, where it stopped)."""

    id: str
    channel: str = Field(examples=["import:opencoesione"])
    source: str = Field(description="The name of the file the run reads", examples=["progetti_esteso_liguria.csv"])
    through: int = Field(description="The file has been sent up to and including this row")
    accepted: int = Field(description="Submissions accepted (recorded by this run)")
    replayed: int = Field(description="Submissions replayed (recorded before, answered again)")
    refused: int = Field(description="Submissions refused (nothing of them recorded)")
    tally: dict[str, int] = Field(
        description="Per label (e.g. a source column), the cents of the accepted and replayed submissions",
        examples=[{"FINANZ_UE": 60_000_000, "TOT_PAGAMENTI": 33_333_333}],
    )
    refused_tally: dict[str, int] = Field(
        description="Per label, the cents of the refused submissions (nothing of them recorded): with `tally`, "
        "what a resumed run needs to reconcile the rows an earlier attempt sent",
        examples=[{"FINANZ_UE": 1_000_000, "TOT_PAGAMENTI": 250_000}],
    )
    started_by: str
    started_at: datetime
    updated_by: str
    updated_at: datetime


class SubmissionResult(BaseModel):
    """One submission's outcome in a bulk import: all of its events, or none of them."""

    status: str = Field(pattern="^(accepted|replayed|refused)$", examples=["accepted"])
    code: str | None = Field(default=None, description="A refusal's code, e.g. batch_refused")
    message: str | None = None
    field: str | None = None
    details: list[dict[str, Any]] | None = Field(default=None, description="A batch refusal's refused events")


class BulkImportResult(BaseModel):
    """One result per submission, in the order sent, and the run as this request left it."""

    results: list[SubmissionResult]
    run: ImportRun | None
