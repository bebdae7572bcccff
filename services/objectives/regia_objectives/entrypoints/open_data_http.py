"""Open data over HTTP, anonymous (docs/security.md, "What is public"): the plan's
objectives and coverage as CSV, and the IATI activity file. Both stream as they are read."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from regia_shared.http.access import PUBLIC_READ
from regia_shared.http.dependencies import DatabasePool

from ..domain.open_data import Publisher
from ..service_layer import open_data
from .indicators_http import Today

PlanFilter = Annotated[str | None, Query(min_length=1, max_length=100, description="Only this plan's objectives")]
CSV = "text/csv; charset=utf-8"
XML = "application/xml"


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

    @router.get(
        "/iati-activities.xml",
        response_class=StreamingResponse,
        responses={200: {"description": "IATI Activity Standard 2.03", "content": {XML: {}}}},
    )
    async def iati_activities(
        request: Request, pool: DatabasePool, today: Today, plan_id: PlanFilter = None
    ) -> StreamingResponse:
        """One iati-activity per objective: budget per year (the need), the funding
        institutions, and a commitment (2) or disbursement (3) transaction per line change,
        dated and described by its reason."""
        settings = request.app.state.settings
        publisher = Publisher(settings.open_data_org_ref, settings.open_data_org_name, settings.open_data_org_type)
        return StreamingResponse(
            open_data.iati_activities(pool, publisher, today, datetime.now(UTC), plan_id),
            media_type=XML,
            headers=_attachment("regia-iati-activities.xml"),
        )

    return router
