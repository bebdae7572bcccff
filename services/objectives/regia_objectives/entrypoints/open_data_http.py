"""Open data over HTTP, anonymous (docs/security.md, "What is public"): the plans'
objectives and coverage as CSV, streamed as it is read (the ledger and the IATI file are
funding's /v1/open/ledger.csv and /v1/open/iati-activities.xml)."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from regia_shared.http.access import PUBLIC_READ
from regia_shared.http.dependencies import DatabasePool

from ..service_layer import open_data

PlanFilter = Annotated[str | None, Query(min_length=1, max_length=100, description="Only this plan's objectives")]
CSV = "text/csv; charset=utf-8"


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def open_data_router() -> APIRouter:
    router = APIRouter(prefix="/v1/open", tags=["open data"], dependencies=[PUBLIC_READ])

    @router.get(
        "/objectives.csv",
        response_class=StreamingResponse,
        responses={200: {"description": "One row per objective and fiscal year", "content": {CSV: {}}}},
    )
    async def objectives_csv(
        pool: DatabasePool,
        plan_id: PlanFilter = None,
        fiscal_year: Annotated[int | None, Query(ge=1990, le=2100, description="Only this year")] = None,
    ) -> StreamingResponse:
        """Every objective (every node of every plan) with its need, committed, counted and
        disbursed money, coverage, status and money per level, one row per fiscal year."""
        return StreamingResponse(
            open_data.objectives_csv(pool, plan_id, fiscal_year),
            media_type=CSV,
            headers=_attachment("regia-objectives.csv"),
        )

    return router
