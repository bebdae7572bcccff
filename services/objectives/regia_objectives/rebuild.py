"""Rebuilding the coverage projection from the funding-line projection it is computed from.

`POST /v1/admin/rebuild/coverage` (administrators): every (objective, fiscal year) that has
money in `line_allocations`, a need, or a coverage row is recomputed, in one transaction,
by the same code the consumer uses (`projection.recompute`), chunk by chunk. Rows whose
figures are unchanged are left alone and publish nothing; rows that drifted are corrected
and their changes published through the outbox like any other change. With
`from_scratch=true` the coverage rows are deleted first (in the same transaction, so
readers never see an empty projection) and every row is written and published anew.

`line_allocations` holds each funding line at its newest version, i.e. exactly what
re-applying the funding ledger's latest version per line gives; to repair it as well,
replay `regia.funding.v1` (or the funding ledger export) into it first.
"""

import time
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Query, Request

from regia_shared.auth import require_admin
from regia_shared.logs import get_logger

from .projection import recompute

log = get_logger(__name__)
CHUNK = 1_000  # (objective, year) keys recomputed per round trip


async def rebuild_coverage(pool: asyncpg.Pool, *, from_scratch: bool = False) -> dict:
    started = time.perf_counter()
    async with pool.acquire() as conn, conn.transaction():
        # One rebuild at a time, and no consumer batch interleaving with it half-way.
        await conn.execute("LOCK TABLE coverage IN EXCLUSIVE MODE")
        if from_scratch:
            await conn.execute("DELETE FROM coverage")
        rows = await conn.fetch(
            "SELECT objective_id, fiscal_year FROM line_allocations"
            " UNION SELECT objective_id, fiscal_year FROM objective_needs"
            " UNION SELECT objective_id, fiscal_year FROM coverage ORDER BY 1, 2")
        keys = [(r["objective_id"], r["fiscal_year"]) for r in rows]
        lines = await conn.fetchval("SELECT count(*) FROM line_allocations")
        published = 0
        for at in range(0, len(keys), CHUNK):
            published += len(await recompute(conn, keys[at:at + CHUNK], {}))
    seconds = time.perf_counter() - started
    log.info("coverage rebuilt", keys=len(keys), lines=lines, published=published,
             seconds=round(seconds, 3), from_scratch=from_scratch)
    return {"objective_years": len(keys), "lines": lines, "events_published": published,
            "seconds": round(seconds, 3), "from_scratch": from_scratch}


def rebuild_router() -> APIRouter:
    router = APIRouter(prefix="/v1/admin", tags=["admin"])

    @router.post("/rebuild/coverage", dependencies=[Depends(require_admin)])
    async def post_rebuild_coverage(
            request: Request,
            from_scratch: Annotated[bool, Query(description="delete the coverage rows first")] = False) -> dict:
        """Recompute the coverage of every objective-year from the funding lines held."""
        return await rebuild_coverage(request.app.state.runtime.pool, from_scratch=from_scratch)

    return router
