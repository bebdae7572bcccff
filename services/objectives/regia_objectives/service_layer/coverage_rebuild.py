"""Rebuilding the coverage projection from the funding-line projection it is computed from.

Every (objective, fiscal year) that has money in `line_allocations`, a need, or a coverage
row is recomputed, in one transaction, by the same code the consumer uses
(`projection.recompute`), chunk by chunk. Rows whose figures are unchanged are left alone
and publish nothing; rows that drifted are corrected and their changes published through
the outbox like any other change. With `from_scratch=True` the coverage rows are deleted
first (in the same transaction, so readers never see an empty projection) and every row is
written and published anew. Administrators call it as `POST /v1/admin/rebuild/coverage`
(entrypoints/rebuild_http.py).

`line_allocations` holds each funding line at its newest version, i.e. exactly what
re-applying the funding ledger's latest version per line gives; to repair it as well,
replay `regia.funding.v1` (or the funding ledger export) into it first.
"""

import time

import asyncpg

from regia_shared.observability.logs import get_logger

from ..adapters import allocations, coverage
from .projection import recompute

log = get_logger(__name__)
CHUNK = 1_000  # (objective, year) keys recomputed per round trip


async def rebuild_coverage(pool: asyncpg.Pool, *, from_scratch: bool = False) -> dict:
    started = time.perf_counter()
    async with pool.acquire() as conn, conn.transaction():
        # One rebuild at a time, and no consumer batch interleaving with it half-way.
        await coverage.lock_all(conn)
        if from_scratch:
            await coverage.delete_all(conn)
        await allocations.rebuild_institution_totals(conn)
        keys = await coverage.every_key(conn)
        lines = await allocations.count(conn)
        published = 0
        for at in range(0, len(keys), CHUNK):
            published += len(await recompute(conn, keys[at : at + CHUNK], {}))
    seconds = time.perf_counter() - started
    log.info(
        "coverage rebuilt",
        keys=len(keys),
        lines=lines,
        published=published,
        seconds=round(seconds, 3),
        from_scratch=from_scratch,
    )
    return {
        "objective_years": len(keys),
        "lines": lines,
        "events_published": published,
        "seconds": round(seconds, 3),
        "from_scratch": from_scratch,
    }
