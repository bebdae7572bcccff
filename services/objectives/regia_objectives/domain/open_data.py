"""Open data: what Italian transparency rules make public about a plan (D.Lgs. 33/2013),
as files anyone may read without a credential (docs/api.md, "Open data").

`objectives.csv` is built here, text only (no I/O), a row at a time so that the HTTP side
streams it from a database cursor: one row per objective and fiscal year, with its plan,
need, committed, counted and disbursed money, coverage, status and money per level. (The
ledger's entries, and the IATI file whose transactions they are, are funding's: its
`/v1/open/ledger.csv` and `/v1/open/iati-activities.xml`. This service's history of line
changes keeps only the newest version of a line per batch it applies, so it could not
give every entry its own reason.)

It carries no contact, e-mail address, key or anything of the audit trail: the rows are
built from the fields named here and nothing else. Amounts are integer cents in the
database and are written as euro with two decimals, exactly (no float on the way).
"""

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from regia_shared.contracts.levels import GovernmentLevel

# --- shared -----------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def euro(cents: int) -> str:
    """-123456 -> '-1234.56'."""
    whole, fraction = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{fraction:02d}"


def spreadsheet_safe(text: str) -> str:
    """Free text that a spreadsheet would run as a formula gets a leading apostrophe (CSV
    injection); amounts never go through here, so they keep their sign."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_line(values: Sequence[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)  # RFC 4180: commas, quotes doubled, CRLF
    return buffer.getvalue()


# --- objectives.csv ---------------------------------------------------------------------

LEVELS = tuple(level.value for level in GovernmentLevel)

OBJECTIVE_COLUMNS = (
    "plan_id",
    "plan_title",
    "territory",
    "objective_id",
    "parent_id",
    "kind",
    "title",
    "lead",
    "illustrative",
    "at_risk_threshold_pct",
    "fiscal_year",
    "need_cents",
    "need_eur",
    "committed_cents",
    "committed_eur",
    "counted_cents",
    "counted_eur",
    "disbursed_cents",
    "disbursed_eur",
    "coverage_pct",
    "status",
    "status_since",
    *(f"committed_{level.lower()}_cents" for level in LEVELS),
)


@dataclass(frozen=True)
class ObjectiveYear:
    """An objective and one of its fiscal years (the year fields are None for an objective
    without any year yet). A parent's money is its subtree's."""

    objective_id: str
    title: str
    kind: str
    plan_id: str | None
    plan_title: str | None
    territory: str | None
    parent_id: str | None
    lead: str | None
    illustrative: bool
    at_risk_threshold_pct: int
    fiscal_year: int | None = None
    need_cents: int | None = None
    committed_cents: int | None = None
    counted_cents: int | None = None
    disbursed_cents: int | None = None
    coverage_bp: int | None = None
    status: str | None = None
    status_since: datetime | None = None
    committed_by_level: Mapping[str, int] | None = None


def _amount(cents: int | None) -> tuple[object, str]:
    return ("", "") if cents is None else (cents, euro(cents))


def objectives_csv_head() -> str:
    return _csv_line(OBJECTIVE_COLUMNS)


def objective_row(o: ObjectiveYear) -> str:
    by_level = o.committed_by_level or {}
    coverage = "" if o.coverage_bp is None else f"{o.coverage_bp // 100}.{o.coverage_bp % 100:02d}"
    return _csv_line(
        [
            o.plan_id or "",
            spreadsheet_safe(o.plan_title or ""),
            spreadsheet_safe(o.territory or ""),
            o.objective_id,
            o.parent_id or "",
            o.kind,
            spreadsheet_safe(o.title),
            o.lead or "",
            "true" if o.illustrative else "false",
            o.at_risk_threshold_pct,
            "" if o.fiscal_year is None else o.fiscal_year,
            *_amount(o.need_cents),
            *_amount(o.committed_cents),
            *_amount(o.counted_cents),
            *_amount(o.disbursed_cents),
            coverage,
            o.status or "",
            o.status_since.isoformat() if o.status_since else "",
            *(("" if o.fiscal_year is None else by_level.get(level, 0)) for level in LEVELS),
        ]
    )
