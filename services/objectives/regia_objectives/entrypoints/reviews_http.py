"""The annual review over HTTP: close a year, read it as JSON, CSV or a readable HTML
report, and compare two closed years."""

import csv
import io
import json
import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from regia_shared.contracts.money import format_euro
from regia_shared.http.access import PUBLIC_READ
from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool, Runtime
from regia_shared.http.writes import ReasonedWrite

from ..domain.coverage import percent
from ..domain.review import ReviewItem, compare, summary
from ..service_layer.plans import read_plan
from ..service_layer.projection import Cause
from ..service_layer.reviews import close_review, closed_review, review_items
from .read_models import ReviewClosed, ReviewComparison, ReviewDocument

_TEMPLATES = Environment(
    loader=PackageLoader("regia_objectives", "templates"), autoescape=select_autoescape(["html", "j2"])
)
Year = Annotated[int, Query(ge=1990, le=2100)]
PathYear = Annotated[int, Path(ge=1990, le=2100)]  # beyond, an integer column would overflow


def _item(i: ReviewItem) -> dict:
    return {
        "node_id": i.node_id,
        "parent_id": i.parent_id,
        "kind": i.kind,
        "title": i.title,
        "need_cents": i.need_cents,
        "committed_cents": i.committed_cents,
        "disbursed_cents": i.disbursed_cents,
        "history_cents": i.history_cents,
        "committed_by_level": i.committed_by_level,
        "coverage_bp": i.coverage_bp,
        "status": i.status,
        "indicators": i.indicators,
    }


def reviews_router() -> APIRouter:
    router = APIRouter(prefix="/v1/plans/{plan_id}/reviews", tags=["annual review"])

    @router.post("/{fiscal_year}", status_code=201, dependencies=[Depends(require_admin)], response_model=ReviewClosed)
    async def close(
        pool: DatabasePool,
        runtime: Runtime,
        plan_id: str,
        fiscal_year: PathYear,
        write: ReasonedWrite,
        correlation_id: Annotated[str | None, Header(alias="X-Correlation-Id")] = None,
    ) -> dict:
        """Close the year, once it has ended: freeze every node's figures and publish the
        review (which rolls funding's open lines over). Say why in X-Regia-Reason: the
        audit keeps who closed it and why, in the review's own transaction."""
        items = await close_review(
            pool,
            plan_id,
            fiscal_year,
            write.actor,
            Cause(correlation_id or secrets.token_hex(16)),
            runtime.settings.fiscal_today(),
            write,
        )
        return {"plan_id": plan_id, "fiscal_year": fiscal_year, **summary(items)}

    @router.get("/compare", dependencies=[PUBLIC_READ], response_model=ReviewComparison, response_model_by_alias=True)
    async def compare_years(
        pool: DatabasePool,
        plan_id: str,
        earlier: Annotated[int, Query(alias="from", ge=1990, le=2100)],
        later: Annotated[int, Query(alias="to", ge=1990, le=2100)],
    ) -> dict:
        a, b = await review_items(pool, plan_id, earlier), await review_items(pool, plan_id, later)
        return {
            "plan_id": plan_id,
            "from": earlier,
            "to": later,
            "totals": {"from": summary(a), "to": summary(b)},
            "nodes": compare(a, b),
        }

    @router.get(
        "/{fiscal_year}",
        dependencies=[PUBLIC_READ],
        response_model=ReviewDocument,
        responses={200: {"content": {"text/csv": {}, "text/html": {}}}},
    )
    async def read(
        pool: DatabasePool, plan_id: str, fiscal_year: PathYear, format: Literal["json", "csv", "html"] = "json"
    ) -> Response | dict:
        closed_at, items = await closed_review(pool, plan_id, fiscal_year)
        if format == "csv":
            return Response(
                _csv(items),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{plan_id}-{fiscal_year}.csv"'},
            )
        if format == "html":
            plan, nodes, _ = await read_plan(pool, plan_id)
            parent = {i.node_id: i.parent_id for i in items}
            depth = {i.node_id: _depth(i.node_id, parent) for i in items}
            html = _TEMPLATES.get_template("review.html.j2").render(
                plan=plan,
                year=fiscal_year,
                items=items,
                depth=depth,
                totals=summary(items),
                closed_at=closed_at[:16].replace("T", " alle ") + " UTC",
                euro=format_euro,
                pct=lambda bp: f"{percent(bp)} %".replace(".", ","),
            )
            return Response(html, media_type="text/html; charset=utf-8")
        return {
            "plan_id": plan_id,
            "fiscal_year": fiscal_year,
            "totals": summary(items),
            "nodes": [_item(i) for i in items],
        }

    return router


def _depth(node_id: str, parent: dict[str, str | None]) -> int:
    depth, node = 0, parent.get(node_id)
    while node is not None and depth < 10:
        depth, node = depth + 1, parent.get(node)
    return depth


def _csv(items: list[ReviewItem]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "node_id",
            "parent_id",
            "kind",
            "title",
            "need_cents",
            "committed_cents",
            "disbursed_cents",
            "coverage_pct",
            "status",
            "committed_by_level",
            "history_cents",
        ]
    )
    for i in items:
        title = ("'" + i.title) if i.title[:1] in "=+-@" else i.title  # no spreadsheet formulas
        writer.writerow(
            [
                i.node_id,
                i.parent_id or "",
                i.kind,
                title,
                i.need_cents,
                i.committed_cents,
                i.disbursed_cents,
                percent(i.coverage_bp),
                i.status,
                json.dumps(i.committed_by_level, sort_keys=True),
                i.history_cents,
            ]
        )
    return out.getvalue()
