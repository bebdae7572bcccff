"""Plans over HTTP: import and export the plan file, list plans, and read a plan's tree
with every node's coverage per year, rolled up."""

import asyncio
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool

from ..adapters import coverage, planfile, plans
from ..domain.coverage import YearCoverage, roll_up
from ..domain.errors import PlanFileInvalid, PlanInvalid
from ..domain.plan_file import PlanFile
from ..domain.tree import Node, Plan, Problem
from ..service_layer.plans import import_plan, read_plan
from ..service_layer.projection import Cause
from .objectives_http import year_json

MAX_PLAN_FILE_BYTES = 2 * 1024 * 1024
YAML = "application/yaml"


def plans_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["plans"])

    @router.post("/plans/import", dependencies=[Depends(require_admin)])
    async def import_plan_file(
        request: Request,
        pool: DatabasePool,
        correlation_id: Annotated[str | None, Header(alias="X-Correlation-Id", max_length=200)] = None,
    ) -> dict:
        """Create or update a whole plan from its YAML file: all or nothing, with every
        problem reported at once."""
        body = await request.body()
        if len(body) > MAX_PLAN_FILE_BYTES:
            raise PlanInvalid([Problem("body", f"the file is over {MAX_PLAN_FILE_BYTES} bytes")])
        try:
            # Parsing a large file takes seconds of CPU: keep it off the event loop.
            parsed = await asyncio.to_thread(planfile.read_plan, body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise PlanInvalid([Problem("body", "the file is not UTF-8 text")]) from exc
        except PlanFileInvalid as exc:
            raise PlanInvalid(list(exc.problems)) from exc
        done = await import_plan(pool, parsed.plan, parsed.nodes, Cause(correlation_id or secrets.token_hex(16)))
        return {
            "plan_id": done.plan_id,
            "created": done.created,
            "updated": done.updated,
            "unchanged": done.unchanged,
            "removed": done.removed,
        }

    @router.get("/plans/{plan_id}/export", response_class=Response)
    async def export_plan_file(pool: DatabasePool, plan_id: str) -> Response:
        """The plan as a plan file: importing it back changes nothing."""
        plan, nodes, leads = await read_plan(pool, plan_id)
        text = planfile.write_plan(PlanFile(plan, nodes, leads))
        return Response(
            text, media_type=YAML, headers={"Content-Disposition": f'attachment; filename="{plan_id}.yaml"'}
        )

    @router.get("/plans")
    async def list_plans(pool: DatabasePool) -> list[dict]:
        async with pool.acquire() as conn:
            return await plans.listing(conn)

    @router.get("/plans/{plan_id}")
    async def get_plan(pool: DatabasePool, plan_id: str) -> dict:
        """The plan and its tree; each node with its coverage per year (its subtree's)."""
        plan, nodes, leads = await read_plan(pool, plan_id)
        async with pool.acquire() as conn:
            years = await coverage.of_plan(conn, plan_id)
        return {**_plan_json(plan), "years": _plan_years(plan, nodes, years), "nodes": _tree(nodes, leads, years)}

    return router


def _plan_json(plan: Plan) -> dict:
    return {
        "plan_id": plan.plan_id,
        "title": plan.title,
        "territory": plan.territory,
        "population": plan.population,
        "first_year": plan.first_year,
        "last_year": plan.last_year,
        "at_risk_threshold_pct": plan.at_risk_threshold_pct,
        "single_level_warning_pct": plan.single_level_warning_pct,
        "description": plan.description,
    }


def _plan_years(plan: Plan, nodes: list[Node], years: dict) -> list[dict]:
    """The plan's own figures per year: its root nodes added up, status at its threshold."""
    roots = {n.node_id for n in nodes if n.parent_id is None}
    totals = []
    for year in range(plan.first_year, plan.last_year + 1):
        rows = [c for node in roots for c in years.get(node, []) if c.fiscal_year == year]
        empty = YearCoverage(plan.plan_id, year, 0, 0, 0)
        totals.append(year_json(roll_up(empty, rows, plan.at_risk_threshold_pct)))
    return totals


def _tree(nodes: list[Node], leads: dict[str, str], years: dict) -> list[dict]:
    by_parent: dict[str | None, list[Node]] = {}
    for node in nodes:
        by_parent.setdefault(node.parent_id, []).append(node)

    def build(parent: str | None) -> list[dict]:
        return [
            {
                "node_id": n.node_id,
                "kind": n.kind.value,
                "title": n.title,
                "weight": n.weight,
                "lead": leads.get(n.node_id),
                "illustrative": n.illustrative,
                "needs": {str(y): c for y, c in sorted(n.needs.items())},
                "years": [year_json(c) for c in years.get(n.node_id, [])],
                "children": build(n.node_id),
            }
            for n in by_parent.get(parent, [])
        ]

    return build(None)
