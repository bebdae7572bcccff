"""The ledger as open data over HTTP, anonymous (docs/security.md, "What is public"):
`GET /v1/open/ledger.csv`, every entry oldest first, and `GET /v1/open/iati-activities.xml`,
one IATI activity per objective with the entries as its transactions; both streamed as the
cursor reads (the administrators' and institutions' export, with its operational columns,
stays at `GET /v1/ledger/export`)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from regia_shared.http.access import PUBLIC_READ
from regia_shared.http.dependencies import DatabasePool

from ..adapters.ledger_export import ExportFilter
from ..domain.exports.iati_xml import Publisher
from ..domain.exports.open_ledger import OPEN_LEDGER_CSV
from ..service_layer import open_data
from .ledger_export_http import export_chunks

Id = Annotated[str | None, Query(min_length=1, max_length=100)]


def open_data_router() -> APIRouter:
    router = APIRouter(prefix="/v1/open", tags=["open data"], dependencies=[PUBLIC_READ])

    @router.get(
        "/ledger.csv",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "The ledger's entries, oldest first",
                "content": {
                    "text/csv": {"schema": {"type": "string", "description": "RFC 4180 CSV, UTF-8, a header row first"}}
                },
            }
        },
    )
    async def open_ledger(
        pool: DatabasePool,
        institution_id: Id = None,
        objective_id: Id = None,
        fiscal_year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    ) -> StreamingResponse:
        """Every ledger entry with its line: institution, level, instrument, objective, year,
        line, CUP, what it did to the commitment and to what was paid, and its reason."""
        selection = ExportFilter(institution_id, objective_id, fiscal_year)
        return StreamingResponse(
            export_chunks(pool, selection, OPEN_LEDGER_CSV),
            media_type=OPEN_LEDGER_CSV.media_type,
            headers={"Content-Disposition": 'attachment; filename="regia-ledger.csv"'},
        )

    @router.get(
        "/iati-activities.xml",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "IATI Activity Standard 2.03",
                "content": {
                    "application/xml": {
                        "schema": {"type": "string", "description": "An iati-activities document (IATI 2.03)"}
                    }
                },
            }
        },
    )
    async def iati_activities(
        request: Request,
        pool: DatabasePool,
        plan_id: Annotated[str | None, Query(min_length=1, max_length=100, description="Only this plan's")] = None,
    ) -> StreamingResponse:
        """One iati-activity per objective: budget per year (its need), the funding
        institutions, its place in the plan's tree, and every ledger entry as a commitment
        (2) and/or disbursement (3) transaction, dated and described by its reason."""
        settings = request.app.state.settings
        publisher = Publisher(settings.open_data_org_ref, settings.open_data_org_name, settings.open_data_org_type)
        return StreamingResponse(
            open_data.iati_activities(pool, publisher, settings.fiscal_today(), datetime.now(UTC), plan_id),
            media_type="application/xml",
            headers={"Content-Disposition": 'attachment; filename="regia-iati-activities.xml"'},
        )

    return router
