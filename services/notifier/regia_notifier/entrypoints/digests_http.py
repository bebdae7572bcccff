"""Daily digests over HTTP: sending the waiting ones now, and what waits for a person.
Admin only."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool, Runtime
from regia_shared.http.paging import Page, Paged, bigint, instant

from ..adapters import waiting_alerts
from ..config import notifier_settings
from ..service_layer.message_assembly import send_digests_now
from .models import DigestsSent, WaitingAlert


class SendDigests(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: Annotated[str | None, Field(min_length=1, max_length=100)] = Field(
        None, description="Only this person's digest; all waiting digests if absent"
    )


def digests_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["digests"], dependencies=[Depends(require_admin)])

    @router.post("/digests/send")
    async def send_now(pool: DatabasePool, runtime: Runtime, command: SendDigests) -> DigestsSent:
        """Send every waiting alert now, in one message per person and cadence, without
        waiting for the digest time or the grouping window (e.g. before a person's
        preferences change, or to check the set-up)."""
        settings = notifier_settings(runtime.settings)
        planned = await send_digests_now(
            pool, settings.zone, now=datetime.now(UTC), contact_id=command.contact_id, links=settings.preference_links()
        )
        return DigestsSent(digests=planned)

    @router.get("/contacts/{contact_id}/digest", response_model=Page[WaitingAlert])
    async def waiting(pool: DatabasePool, page: Paged, contact_id: Annotated[str, Path(max_length=100)]) -> Page[dict]:
        """The alerts waiting for this person's next message (grouping window or digest),
        oldest first, each with its cadence."""
        after = page.after("waiting-alerts", {"contact_id": contact_id}, (instant, bigint))
        async with pool.acquire() as conn:
            found = await waiting_alerts.waiting_of(conn, contact_id, after=after, limit=page.limit + 1)
        return page.of(found, key=lambda r: (r["created_at"].isoformat(), r["seq"]))

    return router
