"""The ledger as standard CSV: comma-separated, a header row, CRLF line ends (RFC 4180),
UTF-8. Every amount appears twice, in cents (exact, for machines) and in euro with a
decimal point (for people). Free text that a spreadsheet would run as a formula is
prefixed with an apostrophe."""

import csv
import io
from collections.abc import Sequence

from .cells import spreadsheet_safe
from .entries import ExportEntry, ExportFormat, euro

COLUMNS = (
    "entry_id",
    "recorded_at",
    "institution_id",
    "institution_name",
    "level",
    "instrument_id",
    "objective_id",
    "fiscal_year",
    "line_id",
    "line_version",
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
    "pushed_by",
    "channel",
    "event_id",
    # Issue 19, after the columns a reader of the earlier export counts on.
    "cup",
    "source_ref",
    "source_status",
    "act_date",
    "history",
)


def csv_line(values: Sequence[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def csv_item(e: ExportEntry, _: int = 0) -> str:
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
            e.fiscal_year,
            e.line_id,
            e.line_version,
            e.kind,
            *(cell for cents in amounts for cell in (cents, euro(cents))),
            e.counterpart_line_id or "",
            spreadsheet_safe(e.reason or ""),
            e.pushed_by,
            e.channel,
            str(e.event_id),
            e.cup or "",
            spreadsheet_safe(e.source_ref or ""),
            spreadsheet_safe(e.source_status or ""),
            e.act_date.isoformat() if e.act_date else "",
            "true" if e.history else "false",
        ]
    )


CSV = ExportFormat(
    media_type="text/csv; charset=utf-8", extension="csv", head=csv_line(COLUMNS), item=csv_item, tail=""
)
