"""The overview's figures in one answer: the console used to walk all 200,000 objectives
of a region page by page to count them."""

from typing import Annotated

from fastapi import APIRouter, Query

from regia_shared.http.access import PUBLIC_READ
from regia_shared.http.dependencies import DatabasePool

from ..service_layer import reads
from .objectives_http import AsOfQuery, InvalidQuery
from .read_models import Summary


def summary_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["objectives"])

    @router.get("/summary", dependencies=[PUBLIC_READ], response_model=Summary)
    async def get_summary(
        pool: DatabasePool,
        fiscal_year: Annotated[int | None, Query(ge=1990, le=2100, description="Only this year")] = None,
        plan_id: Annotated[str | None, Query(max_length=100, description="Only this plan's nodes")] = None,
        as_of: AsOfQuery = None,
    ) -> dict:
        """Objective-years by status and the money of the top-level nodes (standalone
        objectives and plan roots, so each euro is counted once), for one year or all,
        for one plan or everything; per year in `by_year`. Read from small tables the
        coverage projection keeps in its own transaction, so it answers at once at any size."""
        if as_of is not None:
            # As of a date, every objective's coverage would be recomputed from the history
            # (5,000 objectives per request at most elsewhere): refused rather than slow.
            raise InvalidQuery(
                "as_of: the summary is only kept for now; as of a date, read GET /v1/objectives?as_of=",
                "query.as_of",
            )
        return await reads.summary(pool, fiscal_year, plan_id)

    return router
