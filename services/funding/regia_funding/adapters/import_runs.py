"""asyncpg adapter for import runs (migration 0006): one row per run, moved forward by each
bulk request in that request's own transaction, so it never says more or less than the
ledger holds."""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

_COLUMNS = (
    "run_id, channel, source, through, accepted, replayed, refused, tally,"
    " started_by, started_at, updated_by, updated_at"
)


async def advance(
    conn: asyncpg.Connection,
    *,
    run_id: str,
    channel: str,
    source: str,
    through: int,
    counts: Mapping[str, int],
    tally: Mapping[str, int],
    actor: str,
) -> dict[str, Any]:
    """Create the run or add this request's counts and tally to it; `through` only moves
    forward. One statement: the tally's labels are merged by summing in SQL, so two
    requests of one run never lose each other's cents."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO import_runs AS r
            (run_id, channel, source, through, accepted, replayed, refused, tally, started_by, updated_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $9)
        ON CONFLICT (run_id) DO UPDATE SET
            through = GREATEST(r.through, EXCLUDED.through),
            accepted = r.accepted + EXCLUDED.accepted,
            replayed = r.replayed + EXCLUDED.replayed,
            refused = r.refused + EXCLUDED.refused,
            tally = (
                SELECT coalesce(jsonb_object_agg(label, total), '{{}}'::jsonb) FROM (
                    SELECT label, sum(cents::bigint) AS total FROM (
                        SELECT key AS label, value AS cents FROM jsonb_each_text(r.tally)
                        UNION ALL
                        SELECT key, value FROM jsonb_each_text(EXCLUDED.tally)
                    ) both_tallies GROUP BY label
                ) summed
            ),
            source = EXCLUDED.source,
            updated_by = EXCLUDED.updated_by,
            updated_at = now()
        RETURNING {_COLUMNS}
        """,
        run_id,
        channel,
        source,
        through,
        counts.get("accepted", 0),
        counts.get("replayed", 0),
        counts.get("refused", 0),
        json.dumps(dict(tally)),
        actor,
    )
    assert row is not None
    return _record(row)


async def one(conn: asyncpg.Connection, run_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM import_runs WHERE run_id = $1", run_id)
    return _record(row) if row else None


async def page(conn: asyncpg.Connection, after: tuple[datetime, str] | None, limit: int) -> list[dict[str, Any]]:
    """Newest first, keyset on (started_at, run_id) read from its index backwards."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM import_runs"
        " WHERE $1::timestamptz IS NULL OR (started_at, run_id) < ($1::timestamptz, $2::text)"
        " ORDER BY started_at DESC, run_id DESC LIMIT $3",
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_record(r) for r in rows]


def _record(row: asyncpg.Record) -> dict[str, Any]:
    found = dict(row)
    tally = found["tally"]
    found["tally"] = {k: int(v) for k, v in (json.loads(tally) if isinstance(tally, str) else tally).items()}
    return found
