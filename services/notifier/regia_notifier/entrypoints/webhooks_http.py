"""Webhook endpoints of partners over HTTP: registering, listing and removing them. Admin
only; a signing secret is shown once, at creation."""

from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from regia_shared.http.auth import new_secret, require_admin
from regia_shared.http.dependencies import DatabasePool, Runtime
from regia_shared.http.paging import Page, Paged, instant, text

from ..adapters import webhooks
from ..adapters.resolver import addresses_of
from ..adapters.webhooks import SecretBox
from ..config import notifier_settings
from ..domain.webhook_targets import check_target, host_of
from .models import NewWebhookAnswer, Webhook

_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_id: Annotated[str | None, Field(pattern=_ID)] = None
    partner_id: Annotated[str, Field(min_length=1, max_length=100)]
    contact_id: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    url: Annotated[
        HttpUrl,
        Field(
            description="https to a public address (or http/https inside a network the administrator "
            "allowed with REGIA_NOTIFIER_WEBHOOK_ALLOWED_NETWORKS); called with a signed POST, "
            "redirects not followed"
        ),
    ]


async def _secret_box(runtime: Runtime) -> SecretBox:
    settings = notifier_settings(runtime.settings)
    key = settings.secrets_key
    if key is None:
        raise HTTPException(
            503,
            detail="webhooks are disabled until signing secrets can be "
            "encrypted at rest: set REGIA_NOTIFIER_SECRETS_KEY (a Fernet key)",
        )
    return SecretBox(key.get_secret_value())


def webhooks_router() -> APIRouter:
    """Webhook endpoints of partners. The notifier owns them until the partners service
    owns subscriptions. A signing secret is returned once, at creation, and never again."""
    router = APIRouter(prefix="/v1", tags=["webhooks"], dependencies=[Depends(require_admin)])

    @router.post("/webhooks", status_code=201, response_model=NewWebhookAnswer)
    async def create_webhook(
        pool: DatabasePool, runtime: Runtime, new: NewWebhook, box: Annotated[SecretBox, Depends(_secret_box)]
    ) -> dict:
        """A new endpoint with its signing secret: store the secret now, it is not shown again."""
        url = str(new.url)
        host, port = host_of(url)
        check_target(url, await addresses_of(host, port), notifier_settings(runtime.settings).webhook_networks)
        secret = new_secret()
        webhook_id = new.webhook_id or f"wh-{uuid4().hex}"
        async with pool.acquire() as conn:
            created = await webhooks.create(
                conn,
                webhook_id=webhook_id,
                partner_id=new.partner_id,
                contact_id=new.contact_id,
                url=url,
                sealed_secret=box.seal(secret),
            )
        if created is None:
            raise HTTPException(409, detail=f"webhook {webhook_id} exists")
        return {**created, "secret": secret}

    @router.get("/webhooks", dependencies=[Depends(_secret_box)], response_model=Page[Webhook])
    async def list_webhooks(
        pool: DatabasePool, page: Paged, partner_id: Annotated[str | None, Query(max_length=100)] = None
    ) -> Page[dict]:
        """Endpoints, of one partner or all, by partner then age, without their secrets;
        removed ones show active false."""
        after = page.after("webhooks", {"partner_id": partner_id}, (text, instant, text))
        async with pool.acquire() as conn:
            found = await webhooks.listing(conn, partner_id, after=after, limit=page.limit + 1)
        return page.of(found, key=lambda r: (r["partner_id"], r["created_at"].isoformat(), r["webhook_id"]))

    @router.delete("/webhooks/{webhook_id}", status_code=204, dependencies=[Depends(_secret_box)])
    async def delete_webhook(pool: DatabasePool, webhook_id: str) -> Response:
        """Stop alerting an endpoint (pending deliveries to it then fail); its history stays."""
        async with pool.acquire() as conn:
            if not await webhooks.deactivate(conn, webhook_id):
                raise HTTPException(404, detail=f"no active webhook {webhook_id}")
        return Response(status_code=204)

    return router
