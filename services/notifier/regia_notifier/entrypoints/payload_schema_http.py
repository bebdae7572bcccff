"""The JSON Schema of the webhook payloads, public like /openapi.json: it is read by the
developers of the institutions' receivers, who hold no admin token."""

from typing import Any

from fastapi import APIRouter

from regia_shared.http.access import PUBLIC_READ

from ..domain import webhook_payload
from .models import JsonSchema


def payload_schema_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["webhooks"], dependencies=[PUBLIC_READ])

    @router.get(
        "/webhooks/payload-schema",
        summary="The JSON Schema of a webhook call's body (public)",
        response_model=JsonSchema,
        response_model_by_alias=True,
        response_model_exclude_unset=True,
    )
    async def payload_schema() -> dict[str, Any]:
        return webhook_payload.schema()

    return router
