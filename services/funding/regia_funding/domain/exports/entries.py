"""A ledger entry as the exports see it: the entry and the line it belongs to, flattened.

Amounts stay integer cents; `euro` renders them with a decimal point for readers that want
euro (exactly, from the integer: no float on the way).
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID


@dataclass(frozen=True)
class ExportEntry:
    entry_id: int
    line_id: str
    line_version: int
    kind: str
    committed_delta_cents: int
    disbursed_delta_cents: int
    committed_after: int
    disbursed_after: int
    reason: str | None
    pushed_by: str
    channel: str
    event_id: UUID
    recorded_at: datetime
    institution_id: str
    level: str
    objective_id: str
    fiscal_year: int
    instrument_id: str | None = None
    institution_name: str | None = None
    counterpart_line_id: str | None = None  # the other side of a reallocation or roll-over
    # What people search a line by (issue 18's CUP, issue 19's source code and status) and
    # the date of the act the entry records, where known.
    cup: str | None = None
    source_ref: str | None = None
    source_status: str | None = None
    act_date: date | None = None
    objective_title: str | None = None  # as the objectives service announced it
    history: bool = False  # the line is history: a closed year's money, recorded for the record


def euro(cents: int) -> str:
    """-123456 -> '-1234.56'."""
    whole, fraction = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{fraction:02d}"


@dataclass(frozen=True)
class ExportFormat:
    """How one export is framed, so that the same pieces serve a list in a test and an
    async stream of database rows in the HTTP response."""

    media_type: str
    extension: str
    head: str
    item: Callable[[ExportEntry, int], str]  # the entry and its position in the export
    tail: str


def render(export: ExportFormat, entries: Iterable[ExportEntry]) -> Iterator[str]:
    yield export.head
    for index, entry in enumerate(entries):
        yield export.item(entry, index)
    yield export.tail
