"""Read side over HTTP: the list of lines, a line and its history, totals (now or as they
stood on a date), and what an institution pushed. An institution sees its own money; an
administrator sees everything."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import InvalidCursor, Page, Paged

from ..adapters import lines
from ..domain.as_of import instant
from ..domain.commands import Cup, InstrumentId, ObjectiveId, SourceRef
from ..domain.line import LineStatus
from ..service_layer.recording import Caller
from .auth import institution_or_admin
from .responses import FundingLineDetail, FundingLineItem, LedgerEntryItem, TotalsRow

Viewer = Annotated[Caller | None, Depends(institution_or_admin)]
Dimension = Literal["level", "instrument", "objective", "year", "institution", "history"]
History = Annotated[
    bool | None,
    Query(description="true: only history lines (closed years' money, recorded for the record); false: none"),
]
LineSort = Literal["line_id", "-committed", "committed", "-updated"]
Id = Annotated[str | None, Query(min_length=1, max_length=100)]
Year = Annotated[int | None, Query(ge=1990, le=2100)]


def _scoped(viewer: Caller | None, institution_id: str | None, what: str) -> str | None:
    """The institution a read is limited to: an institution's key is forced to its own, and
    asking for another's is a 403 rather than an empty answer that reads as "nothing"."""
    if viewer is None:
        return institution_id
    if institution_id not in (None, viewer.institution_id):
        raise HTTPException(403, detail=f"an institution sees only its own {what}")
    return viewer.institution_id


def _bigint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def _line_key(sort: str, key: list[Any]) -> list[Any]:
    """A cursor's key as the query binds it. The cursor is opaque but comes from the client:
    a key of the wrong shape is the client's error (422 naming `cursor`), never a 500."""
    columns, _ = lines.LINE_SORTS[sort]
    try:
        if len(key) != len(columns) or not isinstance(key[-1], str):
            raise ValueError(key)
        if columns[0] == "committed_cents":
            if not _bigint(key[0]):
                raise ValueError(key)
            return key
        if columns[0] == "updated_at":
            return [datetime.fromisoformat(key[0]), key[1]]
        return key
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("cursor is not one this API made; pass back a next_cursor as it came", "cursor") from exc


def queries_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["funding queries"])

    @router.get("/funding-lines")
    async def list_lines(
        pool: DatabasePool,
        viewer: Viewer,
        page: Paged,
        objective_id: Annotated[ObjectiveId | None, Query()] = None,
        institution_id: Id = None,
        level: GovernmentLevel | None = None,
        fiscal_year: Year = None,
        cup: Annotated[Cup | None, Query()] = None,
        source_ref: Annotated[SourceRef | None, Query()] = None,
        instrument_id: Annotated[InstrumentId | None, Query()] = None,
        status: LineStatus | None = None,
        history: History = None,
        sort: LineSort = "line_id",
    ) -> Page[FundingLineItem]:
        """Funding lines, filtered, a page at a time (`cursor`, `limit`). `sort`: `line_id`
        (default), `committed` or `-committed` (the committed amount, ties by line id in the
        same direction), `-updated` (last changed first). An institution's key lists only
        its own lines; asking for another institution's is a 403."""
        filters: dict[str, Any] = {
            "objective_id": objective_id,
            "institution_id": _scoped(viewer, institution_id, "lines"),
            "level": level.value if level else None,
            "fiscal_year": fiscal_year,
            "cup": cup,
            "source_ref": source_ref,
            "instrument_id": instrument_id,
            "status": status.value if status else None,
            "history": history,
        }
        after = page.after(f"funding-lines:{sort}", filters)
        async with pool.acquire() as conn:
            rows = await lines.page_of_lines(
                conn, filters, sort, _line_key(sort, after) if after is not None else None, page.limit + 1
            )
        items = [FundingLineItem(**r) for r in rows]
        columns, _ = lines.LINE_SORTS[sort]
        key = {
            "line_id": lambda x: [x.line_id],
            "committed_cents": lambda x: [x.committed_cents, x.line_id],
            "updated_at": lambda x: [x.updated_at.isoformat(), x.line_id],
        }[columns[0]]
        return page.of(items, key=key)

    @router.get("/funding-lines/{line_id}")
    async def get_line(pool: DatabasePool, response: Response, line_id: str, viewer: Viewer) -> FundingLineDetail:
        """A line and its full ledger history; its version is the ETag (for If-Match)."""
        async with pool.acquire() as conn:
            line = await lines.get(conn, line_id)
            if line is None or (viewer is not None and line.institution_id != viewer.institution_id):
                # Another institution's line is reported as absent: ids are not disclosed.
                raise HTTPException(404, detail=f"no funding line {line_id!r}")
            history = await lines.history(conn, line_id)
        response.headers["ETag"] = f'"{line.version}"'
        return FundingLineDetail(
            line_id=line.line_id,
            institution_id=line.institution_id,
            instrument_id=line.instrument_id,
            level=line.level,
            objective_id=line.objective_id,
            fiscal_year=line.fiscal_year,
            cup=line.cup,
            source_ref=line.source_ref,
            source_status=line.source_status,
            committed_cents=line.committed_cents,
            disbursed_cents=line.disbursed_cents,
            version=line.version,
            status=line.status,
            is_history=line.history,
            history=[LedgerEntryItem(**h) for h in history],
        )

    @router.get("/totals", response_model=list[TotalsRow], response_model_exclude_unset=True)
    async def totals(
        pool: DatabasePool,
        viewer: Viewer,
        by: Annotated[list[Dimension], Query(max_length=5)] = [],  # noqa: B006 (FastAPI reads it)
        fiscal_year: Year = None,
        level: GovernmentLevel | None = None,
        objective_id: str | None = None,
        instrument_id: str | None = None,
        institution_id: str | None = None,
        history: History = None,
        as_of: Annotated[
            str | None,
            Query(
                max_length=40,
                description="ISO date or date-time: the totals as they stood then, from the ledger "
                "(a date is the whole day, Italian time; a date-time without offset is Italian time)",
            ),
        ] = None,
    ) -> list[dict]:
        """Committed and disbursed money grouped by level, instrument, objective, year,
        institution or history (any combination), with optional filters; `as_of` reads
        them as they stood at a past moment. `by=history` splits history (closed years'
        money, recorded for the record) from the rest."""
        filters = {
            "year": fiscal_year,
            "level": level.value if level else None,
            "objective": objective_id,
            "instrument": instrument_id,
            "institution": _scoped(viewer, institution_id, "totals"),
            "history": history,
        }
        moment = instant(as_of) if as_of is not None else None
        async with pool.acquire() as conn:
            return await lines.totals(conn, list(dict.fromkeys(by)), filters, moment)

    @router.get("/institutions/{institution_id}/entries")
    async def pushed(pool: DatabasePool, institution_id: str, viewer: Viewer, page: Paged) -> Page[LedgerEntryItem]:
        """Everything one institution pushed, oldest first, a page at a time (`cursor`, `limit`)."""
        if viewer is not None and viewer.institution_id != institution_id:
            raise HTTPException(403, detail="an institution sees only its own history")
        after = page.after("institution-entries", {"institution_id": institution_id})
        if after is not None and (len(after) != 1 or not _bigint(after[0])):
            raise InvalidCursor("cursor is not one this API made; pass back a next_cursor as it came", "cursor")
        async with pool.acquire() as conn:
            entries = await lines.pushed_by(conn, institution_id, after[0] if after else None, page.limit + 1)
        return page.of([LedgerEntryItem(**e) for e in entries], key=lambda e: [e.entry_id])

    return router
