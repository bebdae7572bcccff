"""Standalone objectives over HTTP: define one, set its need per year, read it with its
coverage, status and funding lines."""

import secrets
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response

from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool

from ..adapters import allocations, coverage, objectives, plans
from ..adapters.objectives import ObjectiveRecord
from ..domain.commands import DefineObjective, SetNeed
from ..domain.coverage import YearCoverage, percent
from ..service_layer.objectives import define_objective, set_need
from ..service_layer.projection import Cause

CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", max_length=200)]


def year_json(c: YearCoverage) -> dict:
    return {
        "fiscal_year": c.fiscal_year,
        "need_cents": c.need_cents,
        "committed_cents": c.committed_cents,
        "disbursed_cents": c.disbursed_cents,
        "committed_by_level": c.committed_by_level,
        "coverage_bp": c.coverage_bp,
        "coverage_pct": percent(c.coverage_bp),
        "status": c.status.value,
        # Money committed beyond the need: all of it in a year with no need (NO_NEED).
        "over_committed_cents": c.over_committed_cents,
        "single_level_dependency": c.dominant_level,
    }


def objectives_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["objectives"])

    @router.post("/objectives", status_code=201, dependencies=[Depends(require_admin)])
    async def post_objective(
        request: Request,
        pool: DatabasePool,
        command: DefineObjective,
        response: Response,
        correlation_id: CorrelationId = None,
    ) -> dict:
        """Define an objective and its budget need per fiscal year."""
        threshold = command.at_risk_threshold_pct or request.app.state.settings.default_at_risk_threshold_pct
        record = ObjectiveRecord(
            command.objective_id, command.title, threshold, {n.fiscal_year: n.need_cents for n in command.needs}
        )
        created = await define_objective(pool, record, Cause(correlation_id or secrets.token_hex(16)))
        if not created:
            response.status_code = 200
        return await _objective(pool, command.objective_id)

    @router.put("/objectives/{objective_id}/needs/{fiscal_year}", dependencies=[Depends(require_admin)])
    async def put_need(
        pool: DatabasePool,
        objective_id: Annotated[str, Path(max_length=100)],
        fiscal_year: Annotated[int, Path(ge=1990, le=2100)],
        body: SetNeed,
        correlation_id: CorrelationId = None,
    ) -> dict:
        """Set the budget need of an objective for one fiscal year; coverage follows."""
        await set_need(pool, objective_id, fiscal_year, body.need_cents, Cause(correlation_id or secrets.token_hex(16)))
        return await _objective(pool, objective_id)

    @router.get("/objectives/{objective_id}")
    async def get_objective(pool: DatabasePool, objective_id: str) -> dict:
        """An objective with its coverage, status and funding lines per fiscal year."""
        return await _objective(pool, objective_id)

    @router.get("/objectives")
    async def list_objectives(
        pool: DatabasePool,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    ) -> list[dict]:
        async with pool.acquire() as conn:
            found = await objectives.listing(conn, limit, offset)
            years = await coverage.statuses(conn, [o["objective_id"] for o in found])
        return [{**o, "years": years.get(o["objective_id"], [])} for o in found]

    return router


async def _objective(pool: asyncpg.Pool, objective_id: str) -> dict:
    async with pool.acquire() as conn:
        objective = await objectives.get(conn, objective_id)
        if objective is None:
            raise HTTPException(404, detail=f"no objective {objective_id!r}")
        years = await coverage.of_objective(conn, objective_id)
        lines = await allocations.lines_of(conn, objective_id)
        children = await objectives.children(conn, objective_id)
        lead = (await plans.leads(conn, [objective_id])).get(objective_id)
    return {
        "objective_id": objective.objective_id,
        "title": objective.title,
        "plan_id": objective.plan_id,
        "parent_id": objective.parent_id,
        "kind": objective.kind,
        "children": children,
        "lead": lead,
        "weight": objective.weight,
        "illustrative": objective.illustrative,
        "at_risk_threshold_pct": objective.at_risk_threshold_pct,
        "years": [year_json(c) for c in years],
        "lines": lines,
    }
