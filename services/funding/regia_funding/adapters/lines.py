"""asyncpg adapter for funding lines and their ledger."""

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from regia_shared.levels import GovernmentLevel

from ..domain.line import FundingLine, LedgerEntry, LineStatus

_LINE_COLUMNS = ("line_id, institution_id, instrument_id, level, objective_id, fiscal_year,"
                 " committed_cents, disbursed_cents, version, status")


def _line(row: asyncpg.Record) -> FundingLine:
    return FundingLine(
        row["line_id"], row["institution_id"], row["instrument_id"], GovernmentLevel(row["level"]),
        row["objective_id"], row["fiscal_year"], row["committed_cents"], row["disbursed_cents"],
        row["version"], LineStatus(row["status"]),
    )


async def get(conn: asyncpg.Connection, line_id: str, *, for_update: bool = False) -> FundingLine | None:
    # FOR UPDATE serialises concurrent changes of one line: versions never fork, and a
    # check such as "disbursed within committed" is made against the committed state.
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_LINE_COLUMNS} FROM funding_lines WHERE line_id = $1{lock}", line_id)
    return _line(row) if row else None


async def active_in_year(conn: asyncpg.Connection, fiscal_year: int) -> list[FundingLine]:
    rows = await conn.fetch(f"SELECT {_LINE_COLUMNS} FROM funding_lines WHERE fiscal_year = $1"
                            " AND status = 'ACTIVE' ORDER BY line_id FOR UPDATE", fiscal_year)
    return [_line(r) for r in rows]


async def save(conn: asyncpg.Connection, entry: LedgerEntry, *, pushed_by: str, key_id: str | None,
               channel: str, event_id: UUID, correlation_id: str) -> int:
    """Write the line's new state and append its ledger entry; returns the entry id."""
    line = entry.line
    if line.version == 1:
        # A concurrent opening of the same line id loses on the primary key.
        await conn.execute(
            f"INSERT INTO funding_lines ({_LINE_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            line.line_id, line.institution_id, line.instrument_id, line.level.value, line.objective_id,
            line.fiscal_year, line.committed_cents, line.disbursed_cents, line.version, line.status.value)
    else:
        await conn.execute(
            "UPDATE funding_lines SET committed_cents = $2, disbursed_cents = $3, version = $4,"
            " status = $5, updated_at = now() WHERE line_id = $1",
            line.line_id, line.committed_cents, line.disbursed_cents, line.version, line.status.value)
    return await conn.fetchval(
        "INSERT INTO ledger_entries (line_id, line_version, kind, delta_cents, disbursed_delta_cents,"
        " committed_after, disbursed_after, reason, pushed_by, key_id, channel, event_id,"
        " correlation_id, counterpart_line_id)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) RETURNING entry_id",
        line.line_id, line.version, entry.kind.value, entry.committed_delta_cents,
        entry.disbursed_delta_cents, line.committed_cents, line.disbursed_cents, entry.reason,
        pushed_by, key_id, channel, event_id, correlation_id, entry.counterpart_line_id)


_ENTRY_COLUMNS = ("entry_id, line_id, line_version, kind, delta_cents AS committed_delta_cents,"
                  " disbursed_delta_cents, committed_after, disbursed_after, reason, pushed_by,"
                  " channel, counterpart_line_id, event_id, recorded_at")


async def history(conn: asyncpg.Connection, line_id: str) -> list[dict]:
    rows = await conn.fetch(f"SELECT {_ENTRY_COLUMNS} FROM ledger_entries WHERE line_id = $1"
                            " ORDER BY line_version", line_id)
    return [dict(r) for r in rows]


async def pushed_by(conn: asyncpg.Connection, institution_id: str, after_entry: int, limit: int) -> list[dict]:
    rows = await conn.fetch(f"SELECT {_ENTRY_COLUMNS} FROM ledger_entries WHERE pushed_by = $1"
                            " AND entry_id > $2 ORDER BY entry_id LIMIT $3", institution_id, after_entry, limit)
    return [dict(r) for r in rows]


async def all_entries(conn: asyncpg.Connection) -> list[tuple[str, int, int, int]]:
    """(line, version, committed delta, disbursed delta) of every entry, in ledger order."""
    rows = await conn.fetch("SELECT line_id, line_version, delta_cents, disbursed_delta_cents"
                            " FROM ledger_entries ORDER BY entry_id")
    return [(r["line_id"], r["line_version"], r["delta_cents"], r["disbursed_delta_cents"]) for r in rows]


async def all_lines(conn: asyncpg.Connection) -> dict[str, tuple[int, int, int]]:
    rows = await conn.fetch("SELECT line_id, committed_cents, disbursed_cents, version FROM funding_lines")
    return {r["line_id"]: (r["committed_cents"], r["disbursed_cents"], r["version"]) for r in rows}


_GROUPS = {"level": "level", "instrument": "instrument_id", "objective": "objective_id",
           "year": "fiscal_year", "institution": "institution_id"}


async def totals(conn: asyncpg.Connection, by: Sequence[str], filters: dict[str, object]) -> list[dict]:
    """Committed and disbursed sums grouped by the chosen dimensions. Column names come
    from a fixed whitelist; every value is a bound parameter."""
    columns = [_GROUPS[b] for b in by]
    where, args = [], []
    for name, value in filters.items():
        if value is not None:
            args.append(value)
            where.append(f"{_GROUPS[name]} = ${len(args)}")
    sql = (f"SELECT {', '.join(columns) + ',' if columns else ''} coalesce(sum(committed_cents), 0)::bigint AS committed_cents,"
           f" coalesce(sum(disbursed_cents), 0)::bigint AS disbursed_cents, count(*) AS lines FROM funding_lines"
           f"{' WHERE ' + ' AND '.join(where) if where else ''}"
           f"{' GROUP BY ' + ', '.join(columns) + ' ORDER BY ' + ', '.join(columns) if columns else ''}")
    return [dict(r) for r in await conn.fetch(sql, *args)]
