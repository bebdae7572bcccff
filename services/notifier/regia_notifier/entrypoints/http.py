"""The notifier's HTTP API: what was sent to whom, and every attempt. Admin only: it
discloses people's addresses and the messages they received."""

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from regia_shared.auth import new_secret, require_admin

from ..adapters import delivery_log, directory, webhooks
from ..adapters.webhooks import SecretBox
from ..domain.retry import DeliveryStatus
from .dead_letters_http import dead_letters_router


def deliveries_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["deliveries"], dependencies=[Depends(require_admin)])

    @router.get("/deliveries")
    async def list_deliveries(
        request: Request,
        objective_id: Annotated[str | None, Query(max_length=100)] = None,
        status: DeliveryStatus | None = None,
        contact_id: Annotated[str | None, Query(max_length=100)] = None,
        recipient: Annotated[str | None, Query(max_length=320, description="an address, any case")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict]:
        """Deliveries, newest first, optionally of one objective, contact or address and/or
        in one status."""
        async with request.app.state.runtime.pool.acquire() as conn:
            return await delivery_log.listing(conn, objective_id=objective_id,
                                              status=status.value if status else None,
                                              contact_id=contact_id, recipient=recipient, limit=limit)

    @router.get("/contacts/{contact_id}/deliveries")
    async def contact_deliveries(
        request: Request,
        contact_id: Annotated[str, Path(max_length=100)],
        status: DeliveryStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict]:
        """What was sent to one person (a contact of a partner), newest first: the answer to
        "did they get told?" without knowing the objective or event."""
        async with request.app.state.runtime.pool.acquire() as conn:
            return await delivery_log.listing(conn, contact_id=contact_id,
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

    # Registered here, not in app.py: the dead letters are part of the delivery log.
    router.include_router(dead_letters_router())
    return router


_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_id: Annotated[str | None, Field(pattern=_ID)] = None
    partner_id: Annotated[str, Field(min_length=1, max_length=100)]
    contact_id: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    url: Annotated[HttpUrl, Field(description="http or https; called with a signed POST")]


def _secret_box(request: Request) -> SecretBox:
    key = request.app.state.runtime.settings.secrets_key
    if key is None:
        raise HTTPException(503, detail="webhooks are disabled until signing secrets can be "
                            "encrypted at rest: set REGIA_NOTIFIER_SECRETS_KEY (a Fernet key)")
    return SecretBox(key.get_secret_value())


def webhooks_router() -> APIRouter:
    """Webhook endpoints of partners. The notifier owns them until the partners service
    owns subscriptions. A signing secret is returned once, at creation, and never again."""
    router = APIRouter(prefix="/v1", tags=["webhooks"], dependencies=[Depends(require_admin)])

    @router.post("/webhooks", status_code=201)
    async def create_webhook(request: Request, new: NewWebhook,
                             box: Annotated[SecretBox, Depends(_secret_box)]) -> dict:
        """A new endpoint with its signing secret: store the secret now, it is not shown again."""
        secret = new_secret()
        webhook_id = new.webhook_id or f"wh-{uuid4().hex}"
        async with request.app.state.runtime.pool.acquire() as conn:
            created = await webhooks.create(conn, webhook_id=webhook_id, partner_id=new.partner_id,
                                            contact_id=new.contact_id, url=str(new.url),
                                            sealed_secret=box.seal(secret))
        if created is None:
            raise HTTPException(409, detail=f"webhook {webhook_id} exists")
        return {**created, "secret": secret}

    @router.get("/webhooks", dependencies=[Depends(_secret_box)])
    async def list_webhooks(request: Request,
                            partner_id: Annotated[str | None, Query(max_length=100)] = None) -> list[dict]:
        """Endpoints, of one partner or all, without their secrets; removed ones show active false."""
        async with request.app.state.runtime.pool.acquire() as conn:
            return await webhooks.listing(conn, partner_id)

    @router.delete("/webhooks/{webhook_id}", status_code=204, dependencies=[Depends(_secret_box)])
    async def delete_webhook(request: Request, webhook_id: str) -> Response:
        """Stop alerting an endpoint (pending deliveries to it then fail); its history stays."""
        async with request.app.state.runtime.pool.acquire() as conn:
            if not await webhooks.deactivate(conn, webhook_id):
                raise HTTPException(404, detail=f"no active webhook {webhook_id}")
        return Response(status_code=204)

    return router
