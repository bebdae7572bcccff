"""Objectives over HTTP: define one, set its need per year, read it with its figures per
year, the changes that moved it, and the filtered, paged list."""

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from regia_shared.contracts.refusal import Refused
from regia_shared.http.access import PUBLIC_READ
from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import Page, Paged, encode_cursor
from regia_shared.http.writes import ReasonedWrite

from ..adapters.objectives import ObjectiveRecord
from ..adapters.reads import ListFilters
from ..domain.commands import DefineObjective, SetNeed
from ..service_layer import reads
from ..service_layer.objectives import define_objective, set_need
from ..service_layer.projection import Cause
from .read_models import ChangeItem, ObjectiveDocument, ObjectiveItem

CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", max_length=200)]


# The statuses of regia_shared.contracts.events.objectives.CoverageStatus (a unit test
# keeps them equal): a Literal so an unknown one is a 422 naming `status`, never ignored.
StatusFilter = Literal["AT_RISK", "UNFUNDED", "PARTIALLY_FUNDED", "FUNDED", "NO_NEED"]
AsOfQuery = Annotated[
    str | None,
    Query(
        max_length=40,
        description="ISO date or datetime: coverage as it stood then (a date means the end of that day, UTC)",
    ),
]


class InvalidQuery(Refused):
    status, code = 422, "validation_failed"


def moment(as_of: str | None) -> datetime | None:
    """`as_of` as an instant: a date is the end of that day (UTC), a naive time is UTC; a
    422 naming `query.as_of` otherwise."""
    if as_of is None:
        return None
    try:
        if len(as_of) == 10:
            return datetime.combine(date.fromisoformat(as_of), time.max, tzinfo=UTC)
        at = datetime.fromisoformat(as_of)
    except ValueError as exc:
        raise InvalidQuery(
            f"as_of: {as_of!r} is not an ISO date (2027-03-31) or datetime (2027-03-31T12:00:00Z)", "query.as_of"
        ) from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def objectives_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["objectives"])

    @router.post(
        "/objectives", status_code=201, dependencies=[Depends(require_admin)], response_model=ObjectiveDocument
    )
    async def post_objective(
        request: Request,
        pool: DatabasePool,
        command: DefineObjective,
        response: Response,
        write: ReasonedWrite,
        correlation_id: CorrelationId = None,
    ) -> dict:
        """Define an objective and its budget need per fiscal year."""
        threshold = command.at_risk_threshold_pct or request.app.state.settings.default_at_risk_threshold_pct
        record = ObjectiveRecord(
            command.objective_id, command.title, threshold, {n.fiscal_year: n.need_cents for n in command.needs}
        )
        created = await define_objective(pool, record, Cause(correlation_id or secrets.token_hex(16)), write)
        if not created:
            response.status_code = 200
        return await _objective(pool, command.objective_id)

    @router.put(
        "/objectives/{objective_id}/needs/{fiscal_year}",
        dependencies=[Depends(require_admin)],
        response_model=ObjectiveDocument,
    )
    async def put_need(
        pool: DatabasePool,
        objective_id: Annotated[str, Path(max_length=100)],
        fiscal_year: Annotated[int, Path(ge=1990, le=2100)],
        body: SetNeed,
        write: ReasonedWrite,
        correlation_id: CorrelationId = None,
    ) -> dict:
        """Set the budget need of an objective for one fiscal year; coverage follows."""
        cause = Cause(correlation_id or secrets.token_hex(16))
        await set_need(pool, objective_id, fiscal_year, body.need_cents, cause, write)
        return await _objective(pool, objective_id)

    @router.get("/objectives/{objective_id}", dependencies=[PUBLIC_READ], response_model=ObjectiveDocument)
    async def get_objective(pool: DatabasePool, objective_id: str, as_of: AsOfQuery = None) -> dict:
        """An objective with its figures per fiscal year: by level and by institution, the
        gaps to the threshold and to 100 %, since when its status holds and the last line
        change that moved it. Its lines are not embedded (they are paged by funding's
        `GET /v1/funding-lines?objective_id=`)."""
        return await reads.objective_document(pool, objective_id, moment(as_of))

    @router.get("/objectives/{objective_id}/changes", dependencies=[PUBLIC_READ], response_model=Page[ChangeItem])
    async def get_changes(
        pool: DatabasePool,
        page: Paged,
        objective_id: str,
        fiscal_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    ) -> Page[ChangeItem]:
        """The line changes that moved the objective (a parent's: its subtree's), newest first."""
        key = page.after("objective-changes", {"objective_id": objective_id, "fiscal_year": fiscal_year})
        after = None
        if key is not None:
            try:
                after = (datetime.fromisoformat(str(key[0])), int(key[1]))
            except (ValueError, IndexError) as exc:
                raise InvalidQuery("cursor is not one this API made", "cursor") from exc
        rows = await reads.changes(pool, objective_id, fiscal_year, after, page.limit + 1)
        result = page.of(rows, key=lambda r: (r["at"].isoformat(), r["change_id"]))
        return Page[ChangeItem](items=[ChangeItem(**r) for r in result.items], next_cursor=result.next_cursor)

    @router.get("/objectives", dependencies=[PUBLIC_READ], response_model=Page[ObjectiveItem])
    async def list_objectives(
        request: Request,
        response: Response,
        pool: DatabasePool,
        page: Paged,
        status: Annotated[StatusFilter | None, Query(description="Objectives with a year in this status")] = None,
        plan_id: Annotated[str | None, Query(max_length=100)] = None,
        fiscal_year: Annotated[int | None, Query(ge=1990, le=2100, description="Only this year's figures")] = None,
        lead: Annotated[str | None, Query(max_length=100, description="The lead partner's id")] = None,
        q: Annotated[
            str | None,
            Query(
                max_length=200,
                description="Words that each begin a word of the id or the title, case and accents ignored",
            ),
        ] = None,
        sort: Annotated[
            Literal["objective_id", "gap"], Query(description="gap: largest gap to the threshold first")
        ] = ("objective_id"),
        as_of: AsOfQuery = None,
    ) -> Page[ObjectiveItem]:
        """Objectives, filtered, searched and cursor-paged, each with its figures per year."""
        at = moment(as_of)
        if at is not None and sort == "gap":
            raise InvalidQuery("sort=gap is not available with as_of (the gap order is kept for now only)", "sort")
        filters = ListFilters(status, plan_id, fiscal_year, lead, q or None)
        bound = {
            "status": status,
            "plan_id": plan_id,
            "fiscal_year": fiscal_year,
            "lead": lead,
            "q": q,
            "sort": sort,
            "as_of": at,
        }
        after = page.after("objectives", bound)
        rows, resume = await reads.objective_list(pool, filters, sort, after, page.limit + 1, at)
        if sort == "gap":

            def gap_key(o: dict) -> tuple[int, str]:
                years = o["years"]
                return (max((y["gap_to_threshold_cents"] for y in years), default=0), o["objective_id"])

            key: Callable[[dict], Sequence] = gap_key
        else:
            key = lambda o: (o["objective_id"],)  # noqa: E731
        result = page.of(rows, key=key)
        next_cursor = result.next_cursor
        if resume is not None and next_cursor is None:
            # as_of read its most candidates without filling the page: a short page whose
            # cursor goes on after the last objective read.
            next_cursor = encode_cursor("objectives", bound, [resume])
            url = request.url.include_query_params(cursor=next_cursor, limit=page.limit)
            response.headers["Link"] = f'<{url}>; rel="next"'
        return Page[ObjectiveItem](items=[ObjectiveItem(**o) for o in result.items], next_cursor=next_cursor)

    return router


async def _objective(pool: asyncpg.Pool, objective_id: str) -> dict:
    return await reads.objective_document(pool, objective_id)
