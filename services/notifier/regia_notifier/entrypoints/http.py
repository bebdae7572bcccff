"""The notifier's HTTP API: what was sent to whom, and every attempt. Admin only: it
discloses people's addresses and the messages they received."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from regia_shared.auth import require_admin

from ..adapters import delivery_log, directory
from ..domain.retry import DeliveryStatus


def deliveries_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["deliveries"], dependencies=[Depends(require_admin)])

    @router.get("/deliveries")
    async def list_deliveries(
        request: Request,
        objective_id: Annotated[str | None, Query(max_length=100)] = None,
        status: DeliveryStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict]:
        """Deliveries, newest first, optionally of one objective and/or in one status."""
        async with request.app.state.runtime.pool.acquire() as conn:
            return await delivery_log.listing(conn, objective_id=objective_id,
                                              status=status.value if status else None, limit=limit)

    @router.get("/deliveries/{delivery_id}")
    async def get_delivery(request: Request, delivery_id: UUID) -> dict:
        """A delivery with its message and the log of its attempts."""
        async with request.app.state.runtime.pool.acquire() as conn:
            delivery = await delivery_log.one(conn, delivery_id)
        if delivery is None:
            raise HTTPException(404, detail=f"no delivery {delivery_id}")
        return delivery

    @router.get("/objectives/{objective_id}/recipients")
    async def recipients(request: Request, objective_id: str) -> dict:
        """Who would be told about this objective now, as this service knows it."""
        async with request.app.state.runtime.pool.acquire() as conn:
            lead = await directory.lead_of(conn, objective_id)
            contacts = await directory.contacts_of(conn, lead) if lead else []
            name = await directory.partner_name(conn, lead) if lead else None
        return {"objective_id": objective_id, "lead": lead, "lead_name": name,
                "contacts": [c.__dict__ for c in contacts]}

    return router
