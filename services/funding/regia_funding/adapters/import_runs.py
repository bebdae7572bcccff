"""asyncpg adapter for import runs (migrations 0006, 0009): one row per run, moved forward by
each bulk request in that request's own transaction, so it never says more or less than the
ledger holds (what it recorded, in `tally`) or than it refused (in `refused_tally`)."""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

_COLUMNS = (
    "run_id, channel, source, through, accepted, replayed, refused, tally, refused_tally,"
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
    refused_tally: Mapping[str, int],
    actor: str,
) -> dict[str, Any]:
    """Create the run or add this request's counts and tallies to it; `through` only moves
    forward. One statement: the tallies' labels are merged by summing in SQL, so two
    requests of one run never lose each other's cents."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO import_runs AS r
            (run_id, channel, source, through, accepted, replayed, refused, tally, refused_tally,
             started_by, updated_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $10)
        ON CONFLICT (run_id) DO UPDATE SET
            through = GREATEST(r.through, EXCLUDED.through),
            accepted = r.accepted + EXCLUDED.accepted,
            replayed = r.replayed + EXCLUDED.replayed,
            refused = r.refused + EXCLUDED.refused,
            tally = {_summed("r.tally", "EXCLUDED.tally")},
            refused_tally = {_summed("r.refused_tally", "EXCLUDED.refused_tally")},
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
        json.dumps(dict(refused_tally)),
        actor,
    )
    assert row is not None
    return _record(row)


def _summed(kept: str, added: str) -> str:
    """SQL for two label -> cents objects merged by summing each label's cents (two fixed
    column names, never input)."""
    return f"""(
                SELECT coalesce(jsonb_object_agg(label, total), '{{}}'::jsonb) FROM (
                    SELECT label, sum(cents::bigint) AS total FROM (
                        SELECT key AS label, value AS cents FROM jsonb_each_text({kept})
                        UNION ALL
                        SELECT key, value FROM jsonb_each_text({added})
                    ) both_tallies GROUP BY label
                ) summed
            )"""


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
    for name in ("tally", "refused_tally"):
        cents = found[name]
        found[name] = {k: int(v) for k, v in (json.loads(cents) if isinstance(cents, str) else cents).items()}
    return found
