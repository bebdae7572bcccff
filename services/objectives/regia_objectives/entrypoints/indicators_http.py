"""HTTP API for indicators, milestones and progress. Writes need the admin token; reads are
open. The composition root includes `indicators_router()`."""

import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, TypeVar

import asyncpg
from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from regia_shared.http.access import PUBLIC_READ
from regia_shared.http.auth import LEADS, Principal, require_admin
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.identity import Role
from regia_shared.http.writes import OptionalReasonWrite, ReasonedWrite

from ..adapters import indicators, milestones
from ..domain.errors import IndicatorNotFound, ObjectiveNotFound
from ..domain.indicators import DefineIndicator, Indicator, RecordMeasurement, SetTarget
from ..domain.milestones import ChangeMilestone, DefineMilestone, Milestone, status_of
from ..domain.progress import decimal_text, end_of, indicator_figures, latest, progress_figures, progress_in
from ..service_layer.indicators import (
    SubtreeProgress,
    define_indicator,
    define_milestone,
    record_measurement,
    set_target,
    subtree_progress,
    update_milestone,
)
from .read_models import IndicatorDocument, MilestoneDocument, ProgressDocument

M = TypeVar("M", bound=BaseModel)
Id = Annotated[str, Path(max_length=100)]
Year = Annotated[int, Path(ge=1990, le=2100)]
AsOf = Annotated[date | None, Query(description="Default: the end of the fiscal year, or today")]
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", max_length=200)]
ADMIN = [Depends(require_admin)]
Reporter = Annotated[Principal, Depends(LEADS)]


async def may_report(pool: asyncpg.Pool, principal: Principal, table: str, key: str, value: str) -> None:
    """A project lead reports progress only on what their partner leads (the node itself or
    one of its ancestors); administrators on anything. `table`/`key` are this module's own."""
    if principal.role is not Role.PROJECT_LEAD:
        return
    async with pool.acquire() as conn:
        leads = await conn.fetchval(
            "WITH RECURSIVE up AS ("  # the node and its ancestors
            f" SELECT o.objective_id, o.parent_id FROM objectives o JOIN {table} t ON t.objective_id = o.objective_id"
            f" WHERE t.{key} = $1"
            " UNION SELECT o.objective_id, o.parent_id FROM objectives o JOIN up ON o.objective_id = up.parent_id)"
            " SELECT EXISTS (SELECT 1 FROM node_leads l JOIN up USING (objective_id) WHERE l.partner_id = $2)",
            value,
            principal.partner_id,
        )
    if not leads:
        raise HTTPException(
            403, detail=f"your partner {principal.partner_id!r} does not lead the objective of {value!r}"
        )


async def service_today(request: Request) -> date:
    """Today as the service takes it: the composition root's clock (the date in Rome, or
    REGIA_TODAY when pinned), the same the overdue-milestones sweep reads."""
    clock: Callable[[], date] = request.app.state.today
    return clock()


Today = Annotated[date, Depends(service_today)]


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """Parse the JSON body with every number as a Decimal, so 0.1 stays 0.1 and a value
    with twenty digits keeps them all (FastAPI's parser reads numbers as floats); errors
    name the field as the rest of the API does."""

    async def parse(request: Request) -> M:
        try:
            data = json.loads(await request.body(), parse_float=Decimal, parse_constant=_no_constant)
        except ValueError as exc:
            raise RequestValidationError(
                [{"loc": ("body",), "msg": f"invalid JSON: {exc}", "type": "json_invalid"}]
            ) from exc
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
            ) from exc

    return parse


def _cause(correlation_id: str | None) -> str:
    return correlation_id or secrets.token_hex(16)


def _milestone(m: Milestone, as_of: date) -> dict:
    return {
        "milestone_id": m.milestone_id,
        "objective_id": m.objective_id,
        "title": m.title,
        "description": m.description,
        "due_on": m.due_on,
        "reached_on": m.reached_on,
        "status": status_of(m, as_of).value,
        "as_of": as_of,
    }


async def _indicator(pool: asyncpg.Pool, indicator_id: str, as_of: date | None = None) -> dict:
    """The definition, every target with its progress (as of the end of its year, or
    `as_of` if earlier) and every measurement."""
    async with pool.acquire() as conn:
        found = await indicators.get(conn, indicator_id)
        if found is None:
            raise IndicatorNotFound(f"no indicator {indicator_id!r}", "indicator_id")
        targets = (await indicators.targets(conn, [indicator_id]))[indicator_id]
        measured = (await indicators.measurements(conn, [indicator_id]))[indicator_id]
    return {
        **_definition(found),
        "targets": [_against(found, targets, measured, y, as_of) for y in targets],
        "measurements": [
            {"measured_on": m.measured_on, "value": decimal_text(m.value), "source": m.source, "comment": m.comment}
            for m in measured
        ],
    }


def _definition(i: Indicator) -> dict:
    return {
        "indicator_id": i.indicator_id,
        "objective_id": i.objective_id,
        "name": i.name,
        "unit": i.unit,
        "direction": i.direction.value,
        "description": i.description,
        "baseline": {"value": decimal_text(i.baseline_value), "year": i.baseline_year},
    }


def _against(i: Indicator, targets: dict, measured: list, year: int, as_of: date | None) -> dict:
    when = min(end_of(year), as_of) if as_of else end_of(year)
    figures = indicator_figures(
        i, year, targets[year], latest(measured, when), progress_in(i, targets, measured, year, when)
    )
    return {
        "fiscal_year": year,
        "value": figures["target"],
        "as_of": when,
        "actual": figures["actual"],
        "progress": figures["progress"],
    }


def _tree(found: SubtreeProgress, node_id: str, children_of: dict, seen: set) -> dict:
    seen.add(node_id)
    node, rolled = next(n for n in found.nodes if n.node_id == node_id), found.rolled[node_id]
    return {
        "objective_id": node_id,
        "title": node.title,
        "kind": node.kind,
        "weight": node.weight,
        "progress": progress_figures(rolled.progress),
        "indicators_counted": rolled.indicators_counted,
        "indicators_left_out": rolled.indicators_left_out,
        "children_counted": rolled.children_counted,
        "children_left_out": rolled.children_left_out,
        "indicators": found.figures.by_node.get(node_id, []),
        "children": [_tree(found, c, children_of, seen) for c in children_of.get(node_id, []) if c not in seen],
    }


def indicators_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["indicators"])

    @router.post(
        "/objectives/{objective_id}/indicators",
        status_code=201,
        dependencies=ADMIN,
        response_model=IndicatorDocument,
    )
    async def post_indicator(
        pool: DatabasePool,
        objective_id: Id,
        response: Response,
        command: Annotated[DefineIndicator, Depends(body(DefineIndicator))],
        write: ReasonedWrite,
    ) -> dict:
        """Define an indicator on a node, with its baseline and first targets (a change of
        the plan: say why in X-Regia-Reason)."""
        created = await define_indicator(
            pool, command.indicator(objective_id), {t.fiscal_year: t.value for t in command.targets}, write
        )
        response.status_code = 201 if created else 200
        return await _indicator(pool, command.indicator_id)

    @router.get(
        "/objectives/{objective_id}/indicators", dependencies=[PUBLIC_READ], response_model=list[IndicatorDocument]
    )
    async def list_indicators(pool: DatabasePool, objective_id: Id) -> list[dict]:
        async with pool.acquire() as conn:
            if not await indicators.node_exists(conn, objective_id):
                raise ObjectiveNotFound(f"no objective {objective_id!r}", "objective_id")
            found = await indicators.of_nodes(conn, [objective_id])
        return [await _indicator(pool, i.indicator_id) for i in found]

    @router.get("/indicators/{indicator_id}", dependencies=[PUBLIC_READ], response_model=IndicatorDocument)
    async def get_indicator(pool: DatabasePool, indicator_id: Id, as_of: AsOf = None) -> dict:
        return await _indicator(pool, indicator_id, as_of)

    @router.put(
        "/indicators/{indicator_id}/targets/{fiscal_year}", dependencies=ADMIN, response_model=IndicatorDocument
    )
    async def put_target(
        pool: DatabasePool,
        indicator_id: Id,
        fiscal_year: Year,
        command: Annotated[SetTarget, Depends(body(SetTarget))],
        write: ReasonedWrite,
    ) -> dict:
        """Set a year's target (a change of the plan: say why in X-Regia-Reason)."""
        await set_target(pool, indicator_id, fiscal_year, command.value, write)
        return await _indicator(pool, indicator_id)

    @router.post(
        "/indicators/{indicator_id}/measurements",
        status_code=201,
        response_model=IndicatorDocument,
    )
    async def post_measurement(
        pool: DatabasePool,
        reporter: Reporter,
        write: OptionalReasonWrite,
        indicator_id: Id,
        response: Response,
        command: Annotated[RecordMeasurement, Depends(body(RecordMeasurement))],
        today: Today,
        correlation_id: CorrelationId = None,
    ) -> dict:
        """Record an actual value; the same value for the same date again changes nothing.
        One that puts the indicator behind its target path publishes IndicatorFellBehind.
        An administrator, or the lead of the indicator's objective."""
        await may_report(pool, reporter, "indicators", "indicator_id", indicator_id)
        created = await record_measurement(
            pool, indicator_id, command.measurement(), today, _cause(correlation_id), write
        )
        response.status_code = 201 if created else 200
        return await _indicator(pool, indicator_id)

    @router.get("/objectives/{objective_id}/progress", dependencies=[PUBLIC_READ], response_model=ProgressDocument)
    async def get_progress(
        pool: DatabasePool, objective_id: Id, year: Annotated[int, Query(ge=1990, le=2100)], as_of: AsOf = None
    ) -> dict:
        """The node's progress towards `year`'s targets, rolled up from its whole subtree."""
        when = as_of or end_of(year)
        found = await subtree_progress(pool, objective_id, year, when)
        children_of: dict[str, list[str]] = {}
        for n in sorted(found.nodes, key=lambda n: (n.position, n.node_id)):  # as the plan reads
            if n.parent_id is not None:
                children_of.setdefault(n.parent_id, []).append(n.node_id)
        return {"fiscal_year": year, "as_of": when, **_tree(found, objective_id, children_of, set())}

    @router.post(
        "/objectives/{objective_id}/milestones",
        status_code=201,
        dependencies=ADMIN,
        response_model=MilestoneDocument,
    )
    async def post_milestone(
        pool: DatabasePool,
        objective_id: Id,
        response: Response,
        command: Annotated[DefineMilestone, Depends(body(DefineMilestone))],
        today: Today,
        write: ReasonedWrite,
        correlation_id: CorrelationId = None,
    ) -> dict:
        """Define a milestone of a node (a change of the plan: say why in X-Regia-Reason)."""
        milestone = command.milestone(objective_id)
        created = await define_milestone(pool, milestone, today, _cause(correlation_id), write)
        response.status_code = 201 if created else 200
        return _milestone(milestone, today)

    @router.get(
        "/objectives/{objective_id}/milestones", dependencies=[PUBLIC_READ], response_model=list[MilestoneDocument]
    )
    async def list_milestones(pool: DatabasePool, objective_id: Id, today: Today, as_of: AsOf = None) -> list[dict]:
        """Milestones by due date, each with its status as of `as_of` (default today)."""
        async with pool.acquire() as conn:
            if not await indicators.node_exists(conn, objective_id):
                raise ObjectiveNotFound(f"no objective {objective_id!r}", "objective_id")
            found = await milestones.of_node(conn, objective_id)
        return [_milestone(m, as_of or today) for m in found]

    @router.patch("/milestones/{milestone_id}", response_model=MilestoneDocument)
    async def patch_milestone(
        pool: DatabasePool,
        reporter: Reporter,
        write: OptionalReasonWrite,
        milestone_id: Id,
        command: Annotated[ChangeMilestone, Depends(body(ChangeMilestone))],
        today: Today,
        correlation_id: CorrelationId = None,
    ) -> dict:
        """Change a milestone (reached, moved): an administrator, or the lead of its objective."""
        await may_report(pool, reporter, "milestones", "milestone_id", milestone_id)
        changed = await update_milestone(pool, milestone_id, command.changes(), today, _cause(correlation_id), write)
        return _milestone(changed, today)

    return router
