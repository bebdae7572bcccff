"""The JSON Schema of the webhook payloads, public like /openapi.json: it is read by the
developers of the institutions' receivers, who hold no admin token."""

from typing import Any

from fastapi import APIRouter

from ..domain import webhook_payload


def payload_schema_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["webhooks"])

    @router.get("/webhooks/payload-schema", summary="The JSON Schema of a webhook call's body (public)")
    async def payload_schema() -> dict[str, Any]:
        return webhook_payload.schema()

    return router
