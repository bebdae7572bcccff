"""The ledger as open data (`GET /v1/open/ledger.csv`, anonymous): what Italian
transparency rules publish of each entry (who committed or paid how much, to which
objective and year, on which line and CUP, and why), and nothing of how it reached Regia:
no key, no `pushed_by`, no channel, no event or correlation id (docs/security.md, "What is
public"). CSV as the administrators' export (RFC 4180, UTF-8, every amount in cents and
in euro, free text spreadsheet-safe)."""

from .cells import spreadsheet_safe
from .entries import ExportEntry, ExportFormat, euro
from .ledger_csv import csv_line

COLUMNS = (
    "entry_id",
    "recorded_at",
    "institution_id",
    "institution_name",
    "level",
    "instrument_id",
    "objective_id",
    "objective_title",
    "fiscal_year",
    "line_id",
    "cup",
    "source_ref",
    "source_status",
    "act_date",
    "kind",
    "committed_delta_cents",
    "committed_delta_eur",
    "disbursed_delta_cents",
    "disbursed_delta_eur",
    "committed_after_cents",
    "committed_after_eur",
    "disbursed_after_cents",
    "disbursed_after_eur",
    "counterpart_line_id",
    "reason",
)


def open_item(e: ExportEntry, _: int = 0) -> str:
    amounts = [e.committed_delta_cents, e.disbursed_delta_cents, e.committed_after, e.disbursed_after]
    return csv_line(
        [
            e.entry_id,
            e.recorded_at.isoformat(),
            e.institution_id,
            spreadsheet_safe(e.institution_name or ""),
            e.level,
            e.instrument_id or "",
            e.objective_id,
            spreadsheet_safe(e.objective_title or ""),
            e.fiscal_year,
            e.line_id,
            e.cup or "",
            spreadsheet_safe(e.source_ref or ""),
            spreadsheet_safe(e.source_status or ""),
            e.act_date.isoformat() if e.act_date else "",
            e.kind,
            *(cell for cents in amounts for cell in (cents, euro(cents))),
            e.counterpart_line_id or "",
            spreadsheet_safe(e.reason or ""),
        ]
    )


OPEN_LEDGER_CSV = ExportFormat(
    media_type="text/csv; charset=utf-8", extension="csv", head=csv_line(COLUMNS), item=open_item, tail=""
)
