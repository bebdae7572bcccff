"""Alerts nobody could be told about, over HTTP: what waits for an audience (typically an
objective whose lead is not known yet). Admin only, like the delivery log."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool

from ..adapters import unaddressed


def unaddressed_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["alerts"], dependencies=[Depends(require_admin)])

    @router.get("/alerts/unaddressed")
    async def list_unaddressed(
        pool: DatabasePool,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict]:
        """Alerts a rule matched (or the state a new lead is told) that reached nobody,
        newest first: the cause event, the trigger, the objective and year, the rules and
        the partners reached, why nobody heard, and when it happened."""
        async with pool.acquire() as conn:
            return await unaddressed.page(conn, limit=limit, offset=offset)

    return router
