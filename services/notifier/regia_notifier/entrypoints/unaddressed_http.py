"""Alerts nobody could be told about, over HTTP: what waits for an audience (typically an
objective whose lead is not known yet). Admin only, like the delivery log."""

from fastapi import APIRouter, Depends

from regia_shared.http.auth import STAFF
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import Page, Paged, instant, uuid_key

from ..adapters import unaddressed
from .models import Unaddressed


def unaddressed_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["alerts"], dependencies=[Depends(STAFF)])

    @router.get("/alerts/unaddressed", response_model=Page[Unaddressed])
    async def list_unaddressed(pool: DatabasePool, page: Paged) -> Page[dict]:
        """Alerts a rule matched (or the state a new lead is told) that reached nobody,
        newest first: the cause event, the trigger, the objective and year, the rules and
        the partners reached, why nobody heard, and when it happened."""
        after = page.after("unaddressed", {}, (instant, uuid_key))
        async with pool.acquire() as conn:
            found = await unaddressed.page(conn, after=after, limit=page.limit + 1)
        return page.of(found, key=lambda r: (r["occurred_at"].isoformat(), r["cause_event_id"]))

    return router
