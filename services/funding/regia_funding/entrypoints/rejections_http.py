"""What the Kafka way in refused, per institution: GET /v1/inbound/rejections.

The rejected topic (`regia.funding.inbound.rejected.v1`) holds every institution's refused
messages, so institutions are denied it (the broker's ACLs) and read their own here: an
institution's key sees only its institution's rejections; the admin token sees all, or one
institution's with `institution_id=`. A message whose key did not verify belongs to no
institution and is shown to administrators only (its key id is the one it claimed).
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from regia_shared.http.apidocs_topics import InboundRejection, RejectedOriginal
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import Page, Paged, bigint

from ..adapters import inbound_rejections
from ..service_layer.recording import Caller
from .auth import institution_or_admin
from .queries_http import _scoped

Viewer = Annotated[Caller | None, Depends(institution_or_admin)]


class InboundRejectionItem(BaseModel):
    id: int
    institution_id: str | None = Field(description="Whose key verified; null when it did not (administrators only)")
    key_id: str | None = Field(description="The id of the key the message carried (never its secret), verified or not")
    rejected_at: datetime
    error: str = Field(description="Why, as a code: unauthorized, validation_failed, ..., unprocessable")
    message: str
    field: str | None
    details: list = Field(default_factory=list)
    original: RejectedOriginal = Field(description="The message as received, without its authorization header")


def rejections_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["funding events"])

    @router.get("/inbound/rejections")
    async def list_rejections(
        pool: DatabasePool,
        viewer: Viewer,
        page: Paged,
        institution_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    ) -> Page[InboundRejectionItem]:
        """Messages refused on the Kafka way in (regia.funding.inbound.v1), the newest first,
        with the reason and the message without its key. An institution's key lists only its
        own; asking for another institution's is a 403."""
        scoped = _scoped(viewer, institution_id, "rejections")
        after = page.after("inbound-rejections", {"institution_id": scoped}, kinds=(bigint,))
        async with pool.acquire() as conn:
            rows = await inbound_rejections.page(conn, scoped, after[0] if after else None, page.limit + 1)
        items = []
        for r in rows:
            sent = InboundRejection.model_validate_json(r["rejection"])
            items.append(
                InboundRejectionItem(
                    id=r["id"],
                    institution_id=r["institution_id"],
                    key_id=r["key_id"],
                    rejected_at=r["rejected_at"],
                    **sent.model_dump(),
                )
            )
        return page.of(items, key=lambda i: (i.id,))

    return router
