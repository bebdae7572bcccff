"""Import runs, for administrators: what a bulk import run has recorded, where it got to."""

from fastapi import APIRouter, Depends, HTTPException

from regia_shared.http.auth import STAFF
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import Page, Paged, instant, text

from ..adapters import import_runs
from .events_http import run_fields
from .responses import ImportRun


def import_runs_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["funding events"], dependencies=[Depends(STAFF)])

    @router.get("/imports/runs/{run_id}")
    async def get_run(pool: DatabasePool, run_id: str) -> ImportRun:
        """A run as its last bulk request left it: `through`, its counts and its tally."""
        async with pool.acquire() as conn:
            run = await import_runs.one(conn, run_id)
        if run is None:
            raise HTTPException(404, detail=f"no import run {run_id!r} has recorded anything")
        return ImportRun(**run_fields(run))

    @router.get("/imports/runs")
    async def list_runs(pool: DatabasePool, page: Paged) -> Page[ImportRun]:
        """Every import run, the newest first."""
        after = page.after("import-runs", {}, kinds=(instant, text))
        async with pool.acquire() as conn:
            rows = await import_runs.page(conn, (after[0], after[1]) if after else None, page.limit + 1)
        runs = [ImportRun(**run_fields(r)) for r in rows]
        return page.of(runs, key=lambda r: (r.started_at.isoformat(), r.id))

    return router
