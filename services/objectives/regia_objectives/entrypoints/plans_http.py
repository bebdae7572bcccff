"""Plans over HTTP: import and export the plan file, list plans, and read a plan's tree
with every node's coverage per year, rolled up."""

import asyncio
import gzip
import json
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from regia_shared.contracts.events.objectives import CoverageStatus
from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.http.access import PUBLIC_READ
from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import Page, Paged
from regia_shared.http.writes import ReasonedWrite

from ..adapters import planfile, plans
from ..adapters.plans import TreeRowText
from ..domain.coverage import YearCoverage, gap_to_full_cents, gap_to_threshold_cents, percent, roll_up
from ..domain.errors import PlanFileInvalid, PlanInvalid
from ..domain.tree import Node, Plan, Problem, kept_with_ancestors
from ..service_layer.plans import PlanTree, import_plan, plan_tree, plan_version, read_plan, read_plan_file
from ..service_layer.projection import Cause
from ..service_layer.reads import coverage_as_of
from .indicators_http import Today
from .objectives_http import AsOfQuery, moment
from .read_models import PlanDocument, PlanImported, PlanSummary

MAX_PLAN_FILE_BYTES = 2 * 1024 * 1024
YAML = "application/yaml"
JSON = "application/json"


def plans_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["plans"])

    @router.post("/plans/import", dependencies=[Depends(require_admin)], response_model=PlanImported)
    async def import_plan_file(
        request: Request,
        pool: DatabasePool,
        today: Today,
        write: ReasonedWrite,
        correlation_id: Annotated[str | None, Header(alias="X-Correlation-Id", max_length=200)] = None,
    ) -> dict:
        """Create or update a whole plan from its YAML file: all or nothing, with every
        problem reported at once. The nodes' leads and roles, indicators (with targets)
        and milestones come with it; every partner named must be registered."""
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
        done = await import_plan(pool, parsed, Cause(correlation_id or secrets.token_hex(16)), today, write)
        return {
            "plan_id": done.plan_id,
            "created": done.created,
            "updated": done.updated,
            "unchanged": done.unchanged,
            "removed": done.removed,
        }

    @router.get("/plans/{plan_id}/export", dependencies=[PUBLIC_READ], response_class=Response)
    async def export_plan_file(pool: DatabasePool, plan_id: str) -> Response:
        """The plan as a plan file: importing it back changes nothing."""
        text = planfile.write_plan(await read_plan_file(pool, plan_id))
        return Response(
            text, media_type=YAML, headers={"Content-Disposition": f'attachment; filename="{plan_id}.yaml"'}
        )

    @router.get("/plans", dependencies=[PUBLIC_READ], response_model=Page[PlanSummary])
    async def list_plans(pool: DatabasePool, page: Paged) -> Page[PlanSummary]:
        """Plans, oldest first, cursor-paged."""
        after = page.after("plans")
        async with pool.acquire() as conn:
            rows = await plans.listing(conn, (int(after[0]), str(after[1])) if after else None, page.limit + 1)
        result = page.of(rows, key=lambda p: (p["first_year"], p["plan_id"]))
        return Page[PlanSummary](items=[PlanSummary(**p) for p in result.items], next_cursor=result.next_cursor)

    # The last trees written, in this process, each good for one version of its plan.
    trees = TreeCache()

    @router.get("/plans/{plan_id}", dependencies=[PUBLIC_READ], response_model=PlanDocument)
    async def get_plan(
        request: Request,
        pool: DatabasePool,
        plan_id: str,
        fiscal_year: Annotated[int | None, Query(ge=1990, le=2100, description="Only this year's figures")] = None,
        only_at_risk: Annotated[bool, Query(description="Nodes AT_RISK (in the year, or any year)")] = False,
        lead: Annotated[str | None, Query(max_length=100, description="Nodes this partner leads")] = None,
        level: Annotated[
            GovernmentLevel | None, Query(description="Nodes with money committed by this level of government")
        ] = None,
        as_of: AsOfQuery = None,
    ) -> Response:
        """The plan and its tree; each node with its figures per year (its subtree's, each
        child's money counted up to the child's need). With filters, a node is kept when it
        or a descendant matches (`matches` says which), so each match keeps its path."""
        at = moment(as_of)
        if at is None:
            key = (plan_id, fiscal_year, only_at_risk, lead, level.value if level else None)
            held = trees.get(key, await plan_version(pool, plan_id))
            if held is None:
                tree = await plan_tree(pool, plan_id, fiscal_year, level.value if level else None)
                held = trees.put(
                    key, tree.version, _tree_text(tree, fiscal_year, only_at_risk, lead, level is not None)
                )
            if "gzip" in request.headers.get("accept-encoding", ""):
                return Response(
                    held.gzipped(),
                    media_type=JSON,
                    headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
                )
            return Response(held.body, media_type=JSON)
        plan, nodes, leads = await read_plan(pool, plan_id)
        async with pool.acquire() as conn:
            roots = [n.node_id for n in nodes if n.parent_id is None]
            years = (await coverage_as_of(conn, roots, at)).years
        if fiscal_year is not None:
            years = {node: [c for c in held if c.fiscal_year == fiscal_year] for node, held in years.items()}
        thresholds = {n.node_id: plan.at_risk_threshold_pct for n in nodes}
        matching = {
            n.node_id
            for n in nodes
            if (not only_at_risk or any(c.status is CoverageStatus.AT_RISK for c in years.get(n.node_id, [])))
            and (lead is None or leads.get(n.node_id) == lead)
            and (level is None or any(c.committed_by_level.get(level.value, 0) > 0 for c in years.get(n.node_id, [])))
        }
        filtered = only_at_risk or lead is not None or level is not None
        kept = kept_with_ancestors({n.node_id: n.parent_id for n in nodes}, matching) if filtered else None
        body = {
            **_plan_json(plan),
            "as_of": at.isoformat(),
            "years": _plan_years(plan, [c for node in roots for c in years.get(node, [])], fiscal_year),
            "nodes": _tree(nodes, leads, years, thresholds, kept, matching),
        }
        # Built to the PlanDocument schema (OpenAPI shows it) and sent as it is: validating
        # 3,000 rows and 9,000 years again through pydantic took 120 ms of the answer.
        return JSONResponse(body)

    return router


@dataclass
class CachedTree:
    version: tuple[int, int]
    body: bytes
    _gzipped: bytes | None = None

    def gzipped(self) -> bytes:
        # Compressed once per version (level 6: 40 ms for 1.9 MB, to 184 kB), not per answer.
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


class TreeCache:
    """A few plan trees as written (JSON text), each for the version of its plan it was
    read at (plan_versions and plan_definitions: every write the tree shows moves one,
    in the writer's transaction). Writing a 3,000-node tree takes 60-100 ms of PostgreSQL and Python; a
    read of an unchanged plan costs one lookup of its version instead. Per process, so
    replicas hold their own; bounded, the least recently used going first."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self.entries: OrderedDict[tuple, CachedTree] = OrderedDict()

    def get(self, key: tuple, version: tuple[int, int]) -> CachedTree | None:
        held = self.entries.get(key)
        if held is None or held.version != version:
            return None
        self.entries.move_to_end(key)
        return held

    def put(self, key: tuple, version: tuple[int, int], body: bytes) -> CachedTree:
        held = CachedTree(version, body)
        if version[1]:  # 0: the plan has no definition row (it does not exist): nothing to keep
            self.entries[key] = held
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return held


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


def tree_year(c: YearCoverage, threshold_pct: int) -> dict:
    """A tree row's year (read_models.TreeYear), written out rather than filtered from
    year_figures: a 3,000-node plan has 9,000 of them."""
    effective = c.effective_cents
    counted = min(effective, c.need_cents)
    return {
        "fiscal_year": c.fiscal_year,
        "need_cents": c.need_cents,
        "committed_cents": c.committed_cents,
        "counted_cents": counted,
        "surplus_cents": c.committed_cents - counted,
        "disbursed_cents": c.disbursed_cents,
        "committed_by_level": c.committed_by_level,
        "coverage_bp": c.coverage_bp,
        "coverage_pct": percent(c.coverage_bp),
        "status": c.status.value,
        "gap_to_threshold_cents": gap_to_threshold_cents(c.need_cents, effective, threshold_pct),
        "gap_to_full_cents": gap_to_full_cents(c.need_cents, effective),
        "over_committed_cents": c.over_committed_cents,
        "history_cents": c.history_cents,
        "single_level_dependency": c.dominant_level,
    }


def _plan_years(plan: Plan, roots: list[YearCoverage], fiscal_year: int | None) -> list[dict]:
    """The plan's own figures per year: its root nodes' rows rolled up (each counted up to
    its need), status at the plan's threshold."""
    totals = []
    wanted = [fiscal_year] if fiscal_year is not None else range(plan.first_year, plan.last_year + 1)
    for year in wanted:
        rows = [c for c in roots if c.fiscal_year == year]
        empty = YearCoverage(plan.plan_id, year, 0, 0, 0)
        totals.append(tree_year(roll_up(empty, rows, plan.at_risk_threshold_pct), plan.at_risk_threshold_pct))
    return totals


def _tree_text(
    tree: PlanTree, fiscal_year: int | None, only_at_risk: bool, lead: str | None, level_given: bool
) -> bytes:
    """The PlanDocument as JSON text, its rows as PostgreSQL wrote them (adapters.plans.
    tree_rows) put in tree order here: parents before children, siblings by position then
    id, as read_plan orders them. Only `matches` and `children` are added to each row."""
    plan = tree.plan
    filtered = only_at_risk or lead is not None or level_given
    matching: set[str] = set()
    kept: set[str] | None = None
    if filtered:
        matching = {
            r.node_id
            for r in tree.rows
            if (not only_at_risk or r.at_risk) and (lead is None or r.lead == lead) and (not level_given or r.has_level)
        }
        kept = kept_with_ancestors({r.node_id: r.parent_id for r in tree.rows}, matching)
    by_parent: dict[str | None, list[TreeRowText]] = {}
    for r in tree.rows:
        if kept is None or r.node_id in kept:
            by_parent.setdefault(r.parent_id, []).append(r)
    for siblings in by_parent.values():
        siblings.sort(key=lambda r: (r.position, r.node_id))
    out: list[str] = []

    def emit(parent: str | None) -> None:
        for i, r in enumerate(by_parent.get(parent, ())):
            if i:
                out.append(",")
            out.append(r.head)  # the row's object, left open
            out.append(', "matches" : ' + ("true" if kept is None or r.node_id in matching else "false"))
            out.append(', "needs" : ' + r.needs + ', "years" : ' + r.years + ', "children" : [')
            emit(r.node_id)
            out.append("]}")

    emit(None)
    head = {
        **_plan_json(plan),
        "as_of": None,
        "years": _plan_years(plan, [c for held in tree.roots.values() for c in held], fiscal_year),
    }
    return (json.dumps(head)[:-1] + ', "nodes": [' + "".join(out) + "]}").encode()


def _tree(
    nodes: list[Node],
    leads: dict[str, str],
    years: dict,
    thresholds: dict[str, int],
    kept: set[str] | None,
    matching: set[str],
) -> list[dict]:
    by_parent: dict[str | None, list[Node]] = {}
    for node in nodes:
        if kept is None or node.node_id in kept:
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
                "matches": kept is None or n.node_id in matching,
                "needs": {str(y): c for y, c in sorted(n.needs.items())},
                "years": [tree_year(c, thresholds[n.node_id]) for c in years.get(n.node_id, [])],
                "children": build(n.node_id),
            }
            for n in by_parent.get(parent, [])
        ]

    return build(None)
