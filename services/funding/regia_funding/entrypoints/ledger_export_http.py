"""The ledger export over HTTP: `GET /v1/ledger/export?format=csv|iati`.

An administrator exports any entries; an institution's key only the entries of its own
lines (asking for another institution's is a 403, not an empty file that could be taken
for "nothing happened"). The body is streamed as the cursor reads, in chunks of about
64 KB, so a ledger of any size is exported in constant memory.
"""

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse

from regia_shared.http.dependencies import DatabasePool

from ..adapters.ledger_export import ExportFilter, stream_entries
from ..domain.exports.entries import ExportFormat
from ..domain.exports.iati import iati_document
from ..domain.exports.ledger_csv import CSV
from ..service_layer.recording import Caller
from .auth import institution_or_admin
from .responses import LEDGER_EXPORT_CONTENT

CHUNK_CHARS = 64 * 1024
Id = Annotated[str | None, Query(min_length=1, max_length=100)]


def ledger_export_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["exports"])

    @router.get(
        "/ledger/export",
        response_class=StreamingResponse,
        responses={200: {"description": "The entries, streamed as they are read", "content": LEDGER_EXPORT_CONTENT}},
    )
    async def export_ledger(
        pool: DatabasePool,
        viewer: Annotated[Caller | None, Depends(institution_or_admin)],
        format: Literal["csv", "iati"] = "csv",
        institution_id: Id = None,
        objective_id: Id = None,
        fiscal_year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
        history: Annotated[bool | None, Query(description="Only history lines (true) or none (false)")] = None,
    ) -> StreamingResponse:
        """Ledger entries with their lines, oldest first, as CSV or IATI-style JSON
        transactions; filter by institution, objective, fiscal year and history. Each
        entry says whether its line is history (a closed year's money)."""
        if viewer is not None:
            if institution_id not in (None, viewer.institution_id):
                raise HTTPException(403, detail="an institution key exports only its own entries")
            institution_id = viewer.institution_id
        selection = ExportFilter(institution_id, objective_id, fiscal_year, history)
        export = CSV if format == "csv" else iati_document(datetime.now(UTC), selection.as_dict())
        name = "-".join(["regia-ledger", *(str(v) for v in selection.as_dict().values())])
        name = re.sub(r"[^A-Za-z0-9._-]", "_", name)  # a header: only what needs no quoting
        return StreamingResponse(
            export_chunks(pool, selection, export),
            media_type=export.media_type,
            headers={"Content-Disposition": f'attachment; filename="{name}.{export.extension}"'},
        )

    return router


async def export_chunks(pool: asyncpg.Pool, selection: ExportFilter, export: ExportFormat) -> AsyncIterator[str]:
    async with pool.acquire() as conn:
        parts, size, index = [export.head], len(export.head), 0
        async for entry in stream_entries(conn, selection):
            part = export.item(entry, index)
            parts.append(part)
            size, index = size + len(part), index + 1
            if size >= CHUNK_CHARS:
                yield "".join(parts)
                parts, size = [], 0
        parts.append(export.tail)
        yield "".join(parts)
