"""asyncpg adapter for funding lines and their ledger."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.frozen_init import direct_init
from regia_shared.statements import Write, Written

from ..domain import replay
from ..domain.line import FundingLine, LedgerEntry, LineStatus

T = TypeVar("T")
LINE_COLUMNS = (
    "line_id, institution_id, instrument_id, level, objective_id, fiscal_year,"
    " committed_cents, disbursed_cents, version, status, cup, source_ref, source_status, history"
)


def _line(row: asyncpg.Record) -> FundingLine:
    return FundingLine(
        row["line_id"],
        row["institution_id"],
        row["instrument_id"],
        GovernmentLevel(row["level"]),
        row["objective_id"],
        row["fiscal_year"],
        row["committed_cents"],
        row["disbursed_cents"],
        row["version"],
        LineStatus(row["status"]),
        row["cup"],
        row["source_ref"],
        row["source_status"],
        history=row["history"],
    )


async def get(conn: asyncpg.Connection, line_id: str, *, for_update: bool = False) -> FundingLine | None:
    # FOR UPDATE serialises concurrent changes of one line: versions never fork, and a
    # check such as "disbursed within committed" is made against the committed state.
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {LINE_COLUMNS} FROM funding_lines WHERE line_id = $1{lock}", line_id)
    return _line(row) if row else None


async def active_in_year(conn: asyncpg.Connection, fiscal_year: int) -> list[FundingLine]:
    """The lines the roll-over of `fiscal_year` closes. Never a history line: history is
    the record of a closed year, with no rest to carry into the next one."""
    rows = await conn.fetch(
        f"SELECT {LINE_COLUMNS} FROM funding_lines WHERE fiscal_year = $1"
        " AND status = 'ACTIVE' AND NOT history ORDER BY line_id FOR UPDATE",
        fiscal_year,
    )
    return [_line(r) for r in rows]


@direct_init
@dataclass(frozen=True)
class Recorded:
    """Who recorded an entry, how, and the event that announces it."""

    pushed_by: str
    key_id: str | None
    channel: str
    event_id: UUID
    correlation_id: str


def entry_ids(recorded: Sequence[Recorded], ledger: Written) -> list[int]:
    """The ids of the entries `saved`'s last statement appended, in the order of `recorded`."""
    # Mapped back by event id, which is unique per entry: RETURNING promises no order.
    ids = {event_id: entry_id for entry_id, event_id in ledger.rows}
    return [ids[r.event_id] for r in recorded]


def saved(entries: Sequence[LedgerEntry], recorded: Sequence[Recorded]) -> list[Write]:
    """The statements that write the lines' final states and append every entry (at least
    one entry): the lines first, the ledger last, its RETURNING the entry and event ids
    (`entry_ids`). For a caller that joins them with its other writes.

    A line whose first entry here is its version 1 is new and is inserted, so a concurrent
    opening of the same line id fails on the primary key (the caller's transaction rolls
    back, and is retried against the line that now exists); the others are updated."""
    final = {e.line.line_id: e.line for e in entries}  # the last entry of a line leaves its state
    opened: set[str] = set()
    for entry in reversed(entries):  # ends holding, for each line, its first entry's version
        opened.discard(entry.line.line_id)
        if entry.line.version == 1:
            opened.add(entry.line.line_id)
    new = [line for line_id, line in final.items() if line_id in opened]
    changed = [line for line_id, line in final.items() if line_id not in opened]
    writes = []
    if new:
        writes.append(
            Write(
                f"INSERT INTO funding_lines ({LINE_COLUMNS}) SELECT * FROM unnest($1::text[], $2::text[],"
                " $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::bigint[], $9::int[], $10::text[],"
                " $11::text[], $12::text[], $13::text[], $14::bool[])",
                _columns(
                    new,
                    lambda x: (
                        x.line_id,
                        x.institution_id,
                        x.instrument_id,
                        x.level.value,
                        x.objective_id,
                        x.fiscal_year,
                        x.committed_cents,
                        x.disbursed_cents,
                        x.version,
                        x.status.value,
                        x.cup,
                        x.source_ref,
                        x.source_status,
                        x.history,
                    ),
                ),
            )
        )
    if changed:
        writes.append(
            Write(
                "UPDATE funding_lines l SET committed_cents = u.committed, disbursed_cents = u.disbursed,"
                " version = u.version, status = u.status, updated_at = now()"
                " FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::int[], $5::text[])"
                " AS u(line_id, committed, disbursed, version, status) WHERE l.line_id = u.line_id",
                _columns(
                    changed, lambda x: (x.line_id, x.committed_cents, x.disbursed_cents, x.version, x.status.value)
                ),
            )
        )
    writes.append(
        Write(
            "INSERT INTO ledger_entries (line_id, line_version, kind, delta_cents, disbursed_delta_cents,"
            " committed_after, disbursed_after, reason, pushed_by, key_id, channel, event_id,"
            " correlation_id, counterpart_line_id, act_date)"
            " SELECT line_id, line_version, kind, delta, disbursed_delta, committed_after, disbursed_after,"
            " reason, pushed_by, key_id, channel, event_id, correlation_id, counterpart, act_date"
            " FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[],"
            " $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::uuid[], $13::text[], $14::text[],"
            " $15::date[])"
            " WITH ORDINALITY AS e(line_id, line_version, kind, delta, disbursed_delta, committed_after,"
            " disbursed_after, reason, pushed_by, key_id, channel, event_id, correlation_id, counterpart, act_date, n)"
            " ORDER BY n",
            _columns(
                list(zip(entries, recorded, strict=True)),
                lambda p: (
                    p[0].line.line_id,
                    p[0].line.version,
                    p[0].kind.value,
                    p[0].committed_delta_cents,
                    p[0].disbursed_delta_cents,
                    p[0].line.committed_cents,
                    p[0].line.disbursed_cents,
                    p[0].reason,
                    p[1].pushed_by,
                    p[1].key_id,
                    p[1].channel,
                    p[1].event_id,
                    p[1].correlation_id,
                    p[0].counterpart_line_id,
                    p[0].act_date,
                ),
            ),
            returning="entry_id, event_id",
        )
    )
    return writes


def _columns(items: Sequence[T], row: Callable[[T], tuple]) -> list[list]:
    """Rows to the column arrays `unnest` takes."""
    return [list(column) for column in zip(*(row(i) for i in items), strict=True)]


_ENTRY_COLUMNS = (
    "entry_id, line_id, line_version, kind, delta_cents AS committed_delta_cents,"
    " disbursed_delta_cents, committed_after, disbursed_after, reason, pushed_by,"
    " channel, counterpart_line_id, event_id, recorded_at, act_date"
)


async def history(conn: asyncpg.Connection, line_id: str) -> list[dict]:
    rows = await conn.fetch(
        f"SELECT {_ENTRY_COLUMNS} FROM ledger_entries WHERE line_id = $1 ORDER BY line_version", line_id
    )
    return [dict(r) for r in rows]


async def pushed_by(conn: asyncpg.Connection, institution_id: str, after_entry: int | None, limit: int) -> list[dict]:
    """What an institution pushed, oldest first, from after `after_entry` (the index
    ledger_entries_pushed_by serves it, so a page costs the same anywhere in the history)."""
    rows = await conn.fetch(
        f"SELECT {_ENTRY_COLUMNS} FROM ledger_entries WHERE pushed_by = $1"
        " AND entry_id > $2 ORDER BY entry_id LIMIT $3",
        institution_id,
        after_entry if after_entry is not None else 0,
        limit,
    )
    return [dict(r) for r in rows]


# The list of lines: each sort is its key columns and a direction; ties on the amount or
# the time are broken by line_id in the same direction, so the key is unique and a
# descending sort is exactly its ascending one reversed. One direction for every column is
# what lets the keyset predicate be a row comparison, `(committed_cents, line_id) < ($a, $b)`,
# which PostgreSQL turns into where the index scan starts (migration 0004's indexes).
LINE_SORTS: dict[str, tuple[tuple[str, ...], bool]] = {
    "line_id": (("line_id",), False),
    "committed": (("committed_cents", "line_id"), False),
    "-committed": (("committed_cents", "line_id"), True),
    "-updated": (("updated_at", "line_id"), True),
}
LINE_FILTERS = (
    "objective_id",
    "institution_id",
    "level",
    "fiscal_year",
    "cup",
    "source_ref",
    "instrument_id",
    "status",
    "history",
)
_LISTED = f"{LINE_COLUMNS}, updated_at"


async def page_of_lines(
    conn: asyncpg.Connection, filters: Mapping[str, object], sort: str, after: Sequence[Any] | None, limit: int
) -> list[dict]:
    """Up to `limit` lines matching every filter given (None: not filtered), in `sort`
    order, after the key `after` of the previous page's last line."""
    sql, args = lines_page_query(filters, sort, after, limit)
    return await _fetch_planned_for_its_values(conn, sql, args)


async def _fetch_planned_for_its_values(conn: asyncpg.Connection, sql: str, args: Sequence[Any]) -> list[dict]:
    """Run a read with a plan made for its very values. asyncpg prepares each statement once
    per connection, and after five runs PostgreSQL may switch to a generic plan, costed as if
    every filter matched an average share of rows: one objective is 1/200,000 of the lines
    then, so "sort them all" looks free, and for an objective of 88,000 lines seen through an
    institution's key a page took 36 ms instead of 0.3 (docs/performance.md). Planning anew
    costs about a tenth of a millisecond."""
    async with conn.transaction():
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        return [dict(r) for r in await conn.fetch(sql, *args)]


def lines_page_query(
    filters: Mapping[str, object], sort: str, after: Sequence[Any] | None, limit: int
) -> tuple[str, list[Any]]:
    """The statement `page_of_lines` runs (apart, so its plan can be EXPLAINed as it is).
    Column names come from the fixed lists above; every value is a bound parameter."""
    columns, descending = LINE_SORTS[sort]
    where, args = [], []
    for name in LINE_FILTERS:
        value = filters.get(name)
        if value is not None:
            args.append(value)
            where.append(f"{name} = ${len(args)}")
    if after is not None:
        first = len(args) + 1
        args.extend(after)
        marks = ", ".join(f"${first + i}" for i in range(len(columns)))
        where.append(f"({', '.join(columns)}) {'<' if descending else '>'} ({marks})")
    args.append(limit)
    direction = " DESC" if descending else ""
    sql = (
        f"SELECT {_LISTED} FROM funding_lines"
        f"{' WHERE ' + ' AND '.join(where) if where else ''}"
        f" ORDER BY {', '.join(c + direction for c in columns)} LIMIT ${len(args)}"
    )
    return sql, args


async def all_entries(conn: asyncpg.Connection) -> list[tuple[str, int, int, int]]:
    """(line, version, committed delta, disbursed delta) of every entry, in ledger order."""
    rows = await conn.fetch(
        "SELECT line_id, line_version, delta_cents, disbursed_delta_cents FROM ledger_entries ORDER BY entry_id"
    )
    return [(r["line_id"], r["line_version"], r["delta_cents"], r["disbursed_delta_cents"]) for r in rows]


async def all_lines(conn: asyncpg.Connection) -> dict[str, tuple[int, int, int]]:
    rows = await conn.fetch("SELECT line_id, committed_cents, disbursed_cents, version FROM funding_lines")
    return {r["line_id"]: (r["committed_cents"], r["disbursed_cents"], r["version"]) for r in rows}


async def moves(conn: asyncpg.Connection) -> list[replay.Move]:
    """Every side of every reallocation and roll-over, in ledger order."""
    rows = await conn.fetch(
        "SELECT entry_id, kind, line_id, counterpart_line_id, delta_cents FROM ledger_entries"
        " WHERE kind = ANY($1::text[]) ORDER BY entry_id",
        list(replay.MOVE_KINDS),
    )
    return [
        replay.Move(r["entry_id"], r["kind"], r["line_id"], r["counterpart_line_id"], r["delta_cents"]) for r in rows
    ]


async def owners(conn: asyncpg.Connection) -> dict[str, replay.Owner]:
    rows = await conn.fetch(
        "SELECT line_id, institution_id, instrument_id, objective_id, fiscal_year FROM funding_lines"
    )
    return {
        r["line_id"]: replay.Owner(r["institution_id"], r["instrument_id"], r["objective_id"], r["fiscal_year"])
        for r in rows
    }


async def pushed_by_another(conn: asyncpg.Connection) -> list[tuple[int, str, str, str]]:
    """Entries an institution pushed on a line that is not its own (the administrator's,
    for an import or the roll-over, are pushed as 'admin')."""
    rows = await conn.fetch(
        "SELECT e.entry_id, e.line_id, e.pushed_by, l.institution_id FROM ledger_entries e"
        " JOIN funding_lines l USING (line_id) WHERE e.pushed_by <> 'admin'"
        " AND e.pushed_by <> l.institution_id ORDER BY e.entry_id"
    )
    return [(r["entry_id"], r["line_id"], r["pushed_by"], r["institution_id"]) for r in rows]


_GROUPS = {
    "level": "level",
    "instrument": "instrument_id",
    "objective": "objective_id",
    "year": "fiscal_year",
    "institution": "institution_id",
    "history": "history",
}


async def totals(
    conn: asyncpg.Connection, by: Sequence[str], filters: Mapping[str, object], as_of: datetime | None = None
) -> list[dict]:
    """Committed and disbursed sums grouped by the chosen dimensions; with `as_of`, as they
    stood then: each line's amounts after its latest entry recorded at or before `as_of`
    (its highest version among them), lines with no entry by then left out. A line's
    institution, level, instrument, objective and year never change, so grouping by what
    the line holds now is grouping by what it held then. Column names come from a fixed
    whitelist; every value is a bound parameter."""
    columns = [_GROUPS[b] for b in by]
    where, args = [], []
    for name, value in filters.items():
        if value is not None:
            args.append(value)
            where.append(f"l.{_GROUPS[name]} = ${len(args)}")
    source, amounts = "funding_lines l", ("l.committed_cents", "l.disbursed_cents")
    if as_of is not None:
        args.append(as_of)
        at = f"${len(args)}"
        # A line's updated_at is its last entry's recorded_at (one transaction writes both),
        # so a line not changed since `as_of` stood then as it stands now: only the lines
        # changed since are looked up in the ledger, where versions, not times, order a
        # line's entries (two transactions may take their `now()` in one order and lock the
        # line in the other). A line with no entry by then was not open yet: left out.
        source += (
            " LEFT JOIN LATERAL (SELECT e.committed_after, e.disbursed_after FROM ledger_entries e"
            f" WHERE l.updated_at > {at} AND e.line_id = l.line_id AND e.recorded_at <= {at}"
            " ORDER BY e.line_version DESC LIMIT 1) e ON true"
        )
        where.append(f"(l.updated_at <= {at} OR e.committed_after IS NOT NULL)")
        amounts = (
            f"CASE WHEN l.updated_at <= {at} THEN l.committed_cents ELSE e.committed_after END",
            f"CASE WHEN l.updated_at <= {at} THEN l.disbursed_cents ELSE e.disbursed_after END",
        )
    selected = [f"l.{c} AS {c}" for c in columns]
    sql = (
        f"SELECT {', '.join(selected) + ',' if columns else ''} coalesce(sum({amounts[0]}), 0)::bigint AS committed_cents,"
        f" coalesce(sum({amounts[1]}), 0)::bigint AS disbursed_cents, count(*) AS lines FROM {source}"
        f"{' WHERE ' + ' AND '.join(where) if where else ''}"
        f"{' GROUP BY ' + ', '.join(columns) + ' ORDER BY ' + ', '.join(columns) if columns else ''}"
    )
    return await _fetch_planned_for_its_values(conn, sql, args)
