"""A funding line and the entries that change it. Pure: no I/O.

A line is one instrument's money for one objective in one fiscal year. Every accepted
change yields a ledger entry carrying the line as it leaves it (resulting amounts, next
version), which is exactly what the published event carries, so projections can apply
events in any order and never add deltas.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.frozen_init import direct_init


class LineStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    ROLLED_OVER = "ROLLED_OVER"  # its year closed; the undisbursed rest moved to the next year


class EntryKind(StrEnum):
    COMMITMENT = "COMMITMENT"
    REVISION = "REVISION"
    DISBURSEMENT = "DISBURSEMENT"
    REVOCATION = "REVOCATION"
    REALLOCATION_OUT = "REALLOCATION_OUT"
    REALLOCATION_IN = "REALLOCATION_IN"
    ROLLOVER_OUT = "ROLLOVER_OUT"
    ROLLOVER_IN = "ROLLOVER_IN"


@direct_init
@dataclass(frozen=True)
class FundingLine:
    line_id: str
    institution_id: str
    instrument_id: str
    level: GovernmentLevel
    objective_id: str
    fiscal_year: int
    committed_cents: int
    disbursed_cents: int
    version: int
    status: LineStatus
    cup: str | None = None  # the project's CUP, if the commitment named one; kept by the roll-over
    # The source's code and status for the project (issue 19), if the commitment named
    # them; kept by the roll-over like the CUP, since the line's next year is the same project.
    source_ref: str | None = None
    source_status: str | None = None
    # Opened by a history import for a closed year (rules.open_line): money recorded for the
    # record, never an open commitment; only a history import changes it afterwards.
    history: bool = False

    @property
    def undisbursed_cents(self) -> int:
        return self.committed_cents - self.disbursed_cents


@direct_init
@dataclass(frozen=True)
class LedgerEntry:
    kind: EntryKind
    line: FundingLine  # the line as this entry leaves it
    committed_delta_cents: int
    disbursed_delta_cents: int
    reason: str | None
    counterpart_line_id: str | None = None  # the other side of a reallocation or roll-over
    act_date: date | None = None  # the date of the act (commitment) or payment, if the command gave it
