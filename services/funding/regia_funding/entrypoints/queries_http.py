"""Read side over HTTP: a line and its history, totals, and what an institution pushed.
An institution sees its own money; an administrator sees everything."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from regia_shared.http.dependencies import DatabasePool

from ..adapters import lines
from ..service_layer.recording import Caller
from .auth import institution_or_admin

Viewer = Annotated[Caller | None, Depends(institution_or_admin)]
Dimension = Literal["level", "instrument", "objective", "year", "institution"]


def queries_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["funding queries"])

    @router.get("/funding-lines/{line_id}")
    async def get_line(pool: DatabasePool, response: Response, line_id: str, viewer: Viewer) -> dict:
        """A line and its full ledger history; its version is the ETag (for If-Match)."""
        async with pool.acquire() as conn:
            line = await lines.get(conn, line_id)
            if line is None or (viewer is not None and line.institution_id != viewer.institution_id):
                # Another institution's line is reported as absent: ids are not disclosed.
                raise HTTPException(404, detail=f"no funding line {line_id!r}")
            history = await lines.history(conn, line_id)
        response.headers["ETag"] = f'"{line.version}"'
        return {
            "line_id": line.line_id,
            "institution_id": line.institution_id,
            "instrument_id": line.instrument_id,
            "level": line.level,
            "objective_id": line.objective_id,
            "fiscal_year": line.fiscal_year,
            "committed_cents": line.committed_cents,
            "disbursed_cents": line.disbursed_cents,
            "version": line.version,
            "status": line.status,
            "history": history,
        }

    @router.get("/totals")
    async def totals(
        pool: DatabasePool,
        viewer: Viewer,
        by: Annotated[list[Dimension], Query(max_length=5)] = [],  # noqa: B006 (FastAPI reads it)
        fiscal_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
        level: str | None = None,
        objective_id: str | None = None,
        instrument_id: str | None = None,
        institution_id: str | None = None,
    ) -> list[dict]:
        """Committed and disbursed money grouped by level, instrument, objective, year or
        institution (any combination), with optional filters."""
        if viewer is not None:
            if institution_id not in (None, viewer.institution_id):
                raise HTTPException(403, detail="an institution sees only its own totals")
            institution_id = viewer.institution_id
        filters = {
            "year": fiscal_year,
            "level": level,
            "objective": objective_id,
            "instrument": instrument_id,
            "institution": institution_id,
        }
        async with pool.acquire() as conn:
            return await lines.totals(conn, list(dict.fromkeys(by)), filters)

    @router.get("/institutions/{institution_id}/entries")
    async def pushed(
        pool: DatabasePool,
        institution_id: str,
        viewer: Viewer,
        after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,  # a BIGINT entry id
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict:
        """Everything one institution pushed, oldest first; page on with `after`."""
        if viewer is not None and viewer.institution_id != institution_id:
            raise HTTPException(403, detail="an institution sees only its own history")
        async with pool.acquire() as conn:
            entries = await lines.pushed_by(conn, institution_id, after, limit)
        return {"entries": entries, "next_after": entries[-1]["entry_id"] if len(entries) == limit else None}

    return router
