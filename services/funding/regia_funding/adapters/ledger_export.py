"""Reading the ledger for an export, joined with each entry's line.

Streamed through a server-side cursor inside one read-only REPEATABLE READ transaction:
the export is one consistent snapshot however long it takes to send, and only `prefetch`
rows are in memory at a time. Filters are bound parameters; only fixed column names are
ever spliced into the SQL.
"""

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass

import asyncpg

from ..domain.exports.entries import ExportEntry

# An entry with its line, as ExportEntry holds it (the open data's IATI file reads the same).
ENTRY_COLUMNS = (
    "e.entry_id, e.line_id, e.line_version, e.kind, e.delta_cents AS committed_delta_cents,"
    " e.disbursed_delta_cents, e.committed_after, e.disbursed_after, e.reason, e.pushed_by,"
    " e.channel, e.event_id, e.recorded_at, e.counterpart_line_id, l.institution_id,"
    " i.name AS institution_name, l.level, l.instrument_id, l.objective_id, l.fiscal_year,"
    " l.cup, l.source_ref, l.source_status, e.act_date, l.history, o.title AS objective_title"
)
_SELECT = (
    f"SELECT {ENTRY_COLUMNS}"
    " FROM ledger_entries e JOIN funding_lines l ON l.line_id = e.line_id"
    " LEFT JOIN institutions i ON i.institution_id = l.institution_id"
    " LEFT JOIN known_objectives o ON o.objective_id = l.objective_id"
)


@dataclass(frozen=True)
class ExportFilter:
    institution_id: str | None = None
    objective_id: str | None = None
    fiscal_year: int | None = None
    history: bool | None = None

    def as_dict(self) -> dict:
        return {name: value for name, value in asdict(self).items() if value is not None}


def export_query(selection: ExportFilter) -> tuple[str, list]:
    conditions, args = [], []
    for column, value in (
        ("l.institution_id", selection.institution_id),
        ("l.objective_id", selection.objective_id),
        ("l.fiscal_year", selection.fiscal_year),
        ("l.history", selection.history),
    ):
        if value is not None:
            args.append(value)
            conditions.append(f"{column} = ${len(args)}")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"{_SELECT}{where} ORDER BY e.entry_id", args


async def stream_entries(
    conn: asyncpg.Connection, selection: ExportFilter, *, prefetch: int = 500
) -> AsyncIterator[ExportEntry]:
    sql, args = export_query(selection)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async for record in conn.cursor(sql, *args, prefetch=prefetch):
            yield ExportEntry(**dict(record))
