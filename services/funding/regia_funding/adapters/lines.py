"""asyncpg adapter for funding lines and their ledger."""

from uuid import UUID

import asyncpg

from regia_shared.levels import GovernmentLevel

from ..domain.line import FundingLine, LedgerEntry, LineStatus

_LINE_COLUMNS = ("line_id, institution_id, level, objective_id, fiscal_year, committed_cents,"
                 " disbursed_cents, version, status")


def _line(row: asyncpg.Record) -> FundingLine:
    return FundingLine(
        row["line_id"], row["institution_id"], GovernmentLevel(row["level"]), row["objective_id"],
        row["fiscal_year"], row["committed_cents"], row["disbursed_cents"], row["version"],
        LineStatus(row["status"]),
    )


async def get(conn: asyncpg.Connection, line_id: str, *, for_update: bool = False) -> FundingLine | None:
    # FOR UPDATE serialises concurrent changes of one line: versions never fork.
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_LINE_COLUMNS} FROM funding_lines WHERE line_id = $1{lock}", line_id)
    return _line(row) if row else None


async def save(conn: asyncpg.Connection, entry: LedgerEntry, *, pushed_by: str, key_id: str | None,
               channel: str, event_id: UUID, correlation_id: str) -> int:
    """Write the line's new state and append its ledger entry; returns the entry id."""
    line = entry.line
    if line.version == 1:
        # A concurrent commitment of the same line id loses on the primary key.
        await conn.execute(
            f"INSERT INTO funding_lines ({_LINE_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
            line.line_id, line.institution_id, line.level.value, line.objective_id, line.fiscal_year,
            line.committed_cents, line.disbursed_cents, line.version, line.status.value,
        )
    else:
        await conn.execute(
            "UPDATE funding_lines SET committed_cents = $2, disbursed_cents = $3, version = $4,"
            " status = $5, updated_at = now() WHERE line_id = $1",
            line.line_id, line.committed_cents, line.disbursed_cents, line.version, line.status.value,
        )
    return await conn.fetchval(
        "INSERT INTO ledger_entries (line_id, line_version, kind, delta_cents, committed_after,"
        " disbursed_after, reason, pushed_by, key_id, channel, event_id, correlation_id)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING entry_id",
        line.line_id, line.version, entry.kind.value, entry.delta_cents, line.committed_cents,
        line.disbursed_cents, entry.reason, pushed_by, key_id, channel, event_id, correlation_id,
    )


async def history(conn: asyncpg.Connection, line_id: str) -> list[dict]:
    rows = await conn.fetch(
        "SELECT entry_id, line_version, kind, delta_cents, committed_after, disbursed_after, reason,"
        " pushed_by, channel, event_id, recorded_at FROM ledger_entries WHERE line_id = $1"
        " ORDER BY line_version", line_id)
    return [dict(r) for r in rows]
