"""Dead letters over HTTP: what the notifier gave up on, and putting it back. Admin only,
like the rest of the delivery log (it shows people's addresses)."""

from dataclasses import asdict
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import Page, Paged, instant, uuid_key

from ..adapters import dead_letters
from ..adapters.dead_letters import Filters
from .models import DeadLetter, RetryResult

Channel = Literal["email", "webhook"]
ObjectiveId = Annotated[str, Field(min_length=1, max_length=100)]
ContactId = Annotated[str, Field(min_length=1, max_length=100)]


class RetryRequest(BaseModel):
    """Either the ids to retry, or `all: true` with optional filters: a retry of everything
    must be asked for in so many words, never be what an empty or mistyped list means."""

    model_config = ConfigDict(extra="forbid")

    delivery_ids: Annotated[list[UUID] | None, Field(min_length=1, max_length=1000)] = None
    all: bool = False
    channel: Channel | None = None
    objective_id: ObjectiveId | None = None
    contact_id: ContactId | None = None

    @model_validator(mode="after")
    def one_selection(self) -> "RetryRequest":
        if (self.delivery_ids is None) != self.all:
            raise ValueError(
                "say which dead letters to retry: either delivery_ids (a list of ids) "
                "or all: true, not both and not neither"
            )
        if self.delivery_ids is not None and any(self.filters().args()):
            raise ValueError(
                "channel, objective_id and contact_id narrow all: true; "
                "with delivery_ids the ids alone say what is retried"
            )
        return self

    def filters(self) -> Filters:
        return Filters(self.channel, self.objective_id, self.contact_id)


def dead_letters_router() -> APIRouter:
    router = APIRouter(prefix="/dead-letters", tags=["dead letters"], dependencies=[Depends(require_admin)])

    @router.get("", response_model=Page[DeadLetter])
    async def list_dead_letters(
        pool: DatabasePool,
        page: Paged,
        channel: Channel | None = None,
        objective_id: Annotated[str | None, Query(max_length=100)] = None,
        contact_id: Annotated[str | None, Query(max_length=100)] = None,
    ) -> Page[dict]:
        """Deliveries nobody will try again, the most recently given up first, each with
        its last error and how many attempts it had."""
        filters = Filters(channel, objective_id, contact_id)
        after = page.after("dead-letters", asdict(filters), (instant, uuid_key))
        async with pool.acquire() as conn:
            found = await dead_letters.listing(conn, filters, page.limit + 1, after)
        return page.of(found, key=lambda r: (r["finished_at"].isoformat(), str(r["delivery_id"])))

    @router.post("/retry", response_model=RetryResult)
    async def retry_dead_letters(pool: DatabasePool, asked: RetryRequest) -> dict:
        """Put dead deliveries back in the queue, due now, with a fresh budget of attempts.
        Ids that are not dead (delivered, or already retried) are left alone and listed."""
        async with pool.acquire() as conn:
            if asked.delivery_ids is not None:
                done = await dead_letters.retry_ids(conn, asked.delivery_ids)
            else:
                done = await dead_letters.retry_all(conn, asked.filters())
        return asdict(done)

    return router
