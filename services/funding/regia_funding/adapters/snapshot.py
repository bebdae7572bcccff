"""asyncpg adapter for what deciding a group of funding requests reads: everything in one
statement, one round trip whatever the group's size.

What it reads, and the locks it takes, in this order (the select list's, which PostgreSQL
evaluates left to right):
1. the records of the Idempotency-Keys already used, without a lock: a concurrent request
   taking one of them later makes the key's insert fail the transaction, which runs again
   (`idempotency.recording`);
2. the budget window, FOR SHARE: every change checks its line's year is open, and the
   year-end roll-over takes the window FOR UPDATE before it locks that year's lines, so a
   change waits for a roll-over under way (and then sees its year closed) and a roll-over
   waits for changes under way, in the same order: no deadlock;
3. the lines the commands name, FOR UPDATE in line id order, the order every writer of
   lines locks them in;
4. the instruments and 5. the objectives the commands name;
6. who owns the lines whose next-year ids new lines would take, without a lock: a line's
   owner never changes;
7. which of the callers' API keys are revoked (or gone), without a lock: an HTTP request's
   key was verified before it joined the group, perhaps from the replica's memory of keys
   it verified lately (`entrypoints.verified_keys`), so it is checked here again, in the
   transaction that would record the request. A revocation committed before this read
   refuses the request; one committed after it is ordered after the request, as it would
   be had the request committed first.

It is one statement, so one snapshot: a row another transaction commits while this one
waits for a lock above is not among what it reads, unlike the lines it locks, which it
reads as they are once the lock is had. A line opened meanwhile is then opened here too and
fails on the primary key, and the transaction runs again, as a line opened concurrently
always makes it (`group_commit.RACE_RETRIES`; a Kafka batch is rolled back and redelivered).

Each part comes back as an array of rows (`array_agg(ROW(...))`), which asyncpg decodes
with the columns' own types."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from regia_shared.contracts.levels import GovernmentLevel

from ..domain.batch import Earlier, Key, Snapshot
from ..domain.line import FundingLine, LineStatus
from ..domain.rules import Instrument, Window
from .lines import LINE_COLUMNS

_READ = (
    "SELECT"
    " (SELECT array_agg(ROW(i.institution_id, i.space, i.idempotency_key, i.request_sha256, i.status_code,"
    " i.response::text)) FROM idempotency_keys i JOIN unnest($1::text[], $2::text[], $3::text[])"
    " AS k(institution_id, space, idempotency_key) USING (institution_id, space, idempotency_key)) AS earlier,"
    " (SELECT ROW(w.first_year, w.last_year) FROM budget_window w FOR SHARE) AS window,"
    f" (SELECT array_agg(ROW(l.*)) FROM (SELECT {LINE_COLUMNS} FROM funding_lines"
    " WHERE line_id = ANY($4::text[]) ORDER BY line_id FOR UPDATE) l) AS locked,"
    " (SELECT array_agg(ROW(i.instrument_id, i.institution_id, s.level)) FROM instruments i"
    " JOIN institutions s USING (institution_id) WHERE i.instrument_id = ANY($5::text[])) AS instruments,"
    " (SELECT array_agg(o.objective_id) FROM known_objectives o WHERE o.objective_id = ANY($6::text[])) AS objectives,"
    " (SELECT array_agg(ROW(l.line_id, l.institution_id)) FROM funding_lines l WHERE l.line_id = ANY($7::text[]))"
    " AS owners,"
    " (SELECT array_agg(w.key_id) FROM unnest($8::text[]) AS w(key_id) LEFT JOIN api_keys k USING (key_id)"
    " WHERE k.key_id IS NULL OR k.revoked_at IS NOT NULL) AS revoked"
)


@dataclass(frozen=True)
class Wanted:
    """What a group of requests names, each sorted."""

    keys: Sequence[Key]
    line_ids: Sequence[str]
    instrument_ids: Sequence[str]
    objective_ids: Sequence[str]
    reserved_ids: Sequence[str]  # next-year line ids new lines would take
    key_ids: Sequence[str] = ()  # the callers' API keys


async def read(conn: asyncpg.Connection, wanted: Wanted) -> tuple[dict[Key, Earlier], Snapshot, frozenset[str]]:
    """The keys' earlier records, the snapshot to decide against, in the caller's
    transaction, with the locks above, and which of the API keys are revoked."""
    row = await conn.fetchrow(
        _READ,
        [k[0] for k in wanted.keys],
        [k[1] for k in wanted.keys],
        [k[2] for k in wanted.keys],
        list(wanted.line_ids),
        list(wanted.instrument_ids),
        list(wanted.objective_ids),
        # A named line that exists is read, locked, with its owner, in `locked`.
        sorted(set(wanted.reserved_ids) - set(wanted.line_ids)),
        list(wanted.key_ids),
    )
    assert row is not None
    if row["window"] is None:
        raise RuntimeError("the budget window is not initialised")
    earlier = {(r[0], r[1], r[2]): Earlier(r[3], r[4], _json(r[5])) for r in row["earlier"] or ()}
    locked = {r[0]: _line(r) for r in row["locked"] or ()}
    instruments = {r[0]: Instrument(r[0], r[1], GovernmentLevel(r[2])) for r in row["instruments"] or ()}
    return (
        earlier,
        Snapshot(
            Window(row["window"][0], row["window"][1]),
            locked,
            instruments,
            frozenset(row["objectives"] or ()),
            {r[0]: r[1] for r in row["owners"] or ()},
        ),
        frozenset(row["revoked"] or ()),
    )


def _line(r: Any) -> FundingLine:
    """A line from its row in `LINE_COLUMNS`' order."""
    return FundingLine(
        r[0],
        r[1],
        r[2],
        GovernmentLevel(r[3]),
        r[4],
        r[5],
        r[6],
        r[7],
        r[8],
        LineStatus(r[9]),
        r[10],
        r[11],
        r[12],
        history=r[13],
    )


def _json(value: str) -> dict[str, Any]:
    return dict(json.loads(value))
