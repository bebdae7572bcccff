"""The delivery log over HTTP: what was sent to whom, and every attempt. Admin only: it
discloses people's addresses and the messages they received."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import Page, Paged, instant, uuid_key

from ..adapters import delivery_log, directory
from ..domain.retry import DeliveryStatus
from .dead_letters_http import dead_letters_router
from .models import Delivery, DeliveryDetails, Recipients


def _key(row: dict) -> tuple[str, str]:
    return row["created_at"].isoformat(), str(row["delivery_id"])


def deliveries_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["deliveries"], dependencies=[Depends(require_admin)])

    @router.get("/deliveries", response_model=Page[Delivery])
    async def list_deliveries(
        pool: DatabasePool,
        page: Paged,
        objective_id: Annotated[str | None, Query(max_length=100)] = None,
        status: DeliveryStatus | None = None,
        contact_id: Annotated[str | None, Query(max_length=100)] = None,
        recipient: Annotated[str | None, Query(max_length=320, description="an address, any case")] = None,
    ) -> Page[dict]:
        """Deliveries, newest first, optionally of one objective, contact or address and/or
        in one status."""
        filters = {"objective_id": objective_id, "status": status, "contact_id": contact_id, "recipient": recipient}
        after = page.after("deliveries", filters, (instant, uuid_key))
        async with pool.acquire() as conn:
            found = await delivery_log.listing(
                conn,
                objective_id=objective_id,
                status=status.value if status else None,
                contact_id=contact_id,
                recipient=recipient,
                after=after,
                limit=page.limit + 1,
            )
        return page.of(found, key=_key)

    @router.get("/contacts/{contact_id}/deliveries", response_model=Page[Delivery])
    async def contact_deliveries(
        pool: DatabasePool,
        page: Paged,
        contact_id: Annotated[str, Path(max_length=100)],
        status: DeliveryStatus | None = None,
    ) -> Page[dict]:
        """What was sent to one person (a contact of a partner), newest first: the answer to
        "did they get told?" without knowing the objective or event."""
        after = page.after("contact-deliveries", {"contact_id": contact_id, "status": status}, (instant, uuid_key))
        async with pool.acquire() as conn:
            found = await delivery_log.listing(
                conn, contact_id=contact_id, status=status.value if status else None, after=after, limit=page.limit + 1
            )
        return page.of(found, key=_key)

    @router.get("/deliveries/{delivery_id}", response_model=DeliveryDetails)
    async def get_delivery(pool: DatabasePool, delivery_id: UUID) -> dict:
        """A delivery with its message and the log of its attempts."""
        async with pool.acquire() as conn:
            delivery = await delivery_log.one(conn, delivery_id)
        if delivery is None:
            raise HTTPException(404, detail=f"no delivery {delivery_id}")
        return delivery

    @router.get("/objectives/{objective_id}/recipients", response_model=Recipients)
    async def recipients(pool: DatabasePool, objective_id: str) -> dict:
        """Who would be told about this objective now, as this service knows it."""
        async with pool.acquire() as conn:
            lead = await directory.lead_of(conn, objective_id)
            contacts = await directory.contacts_of(conn, lead) if lead else []
            name = await directory.partner_name(conn, lead) if lead else None
        return {
            "objective_id": objective_id,
            "lead": lead,
            "lead_name": name,
            "contacts": [{**c.__dict__, "kinds": dict(c.kinds)} for c in contacts],
        }

    # Registered here, not in app.py: the dead letters are part of the delivery log.
    router.include_router(dead_letters_router())
    return router
