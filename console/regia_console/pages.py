"""The read-only pages: overview, a plan's tree, an objective. Each asks the services what
it needs concurrently; a service that does not answer leaves a gap that says so."""

import asyncio
import datetime

from fastapi import APIRouter, Request

from . import overview, tree
from .auth import Admin
from .gateway import Gateway, NotFound, Unavailable, or_none, path
from .rendering import render


def gateway_of(request: Request) -> Gateway:
    return request.app.state.gateway


def pages_router() -> APIRouter:
    router = APIRouter()

    @router.get("/")
    async def overview_page(request: Request, session: Admin):
        gateway, token = gateway_of(request), session.token
        health, objectives, plans, totals = await asyncio.gather(
            gateway.health(),
            or_none(gateway.all_objectives(token)),
            or_none(gateway.all_plans(token)),
            or_none(gateway.get("funding", "/v1/totals", token, by=["level", "year"])),
        )
        feed = request.app.state.feed
        return render(
            request,
            "overview.html",
            session=session,
            health=health,
            plans=plans,
            totals=totals,
            objectives_known=objectives is not None,
            counts=overview.counts_by_status(objectives or []),
            at_risk=overview.at_risk_first(objectives or [], feed.went_at_risk)[:100],
        )

    @router.get("/plans/{plan_id}")
    async def plan_page(request: Request, session: Admin, plan_id: str, year: int | None = None):
        try:
            plan = await gateway_of(request).get("objectives", path("/v1/plans/{}", plan_id), session.token)
        except NotFound:
            return render(request, "missing.html", status_code=404, session=session, what=plan_id)
        if not isinstance(plan, dict) or not all(isinstance(plan.get(k), int) for k in ("first_year", "last_year")):
            raise Unavailable(f"objectives answered plan {plan_id!r} without its first and last year")
        first, last = plan["first_year"], plan["last_year"]
        chosen = (
            year
            if year is not None and first <= year <= last
            else tree.default_year(first, last, datetime.date.today().year)
        )
        nodes = tree.build(plan.get("nodes") or [], chosen)
        return render(
            request,
            "plan.html",
            session=session,
            plan=plan,
            year=chosen,
            years=range(first, last + 1),
            nodes=nodes,
            node_count=tree.count(nodes),
            plan_year=tree.year_of(plan.get("years", []), chosen),
        )

    @router.get("/objectives/{objective_id}")
    async def objective_page(request: Request, session: Admin, objective_id: str):
        gateway, token = gateway_of(request), session.token
        try:
            objective = await gateway.get("objectives", path("/v1/objectives/{}", objective_id), token)
        except NotFound:
            return render(request, "missing.html", status_code=404, session=session, what=objective_id)
        if not isinstance(objective, dict):
            raise Unavailable(f"objectives answered objective {objective_id!r} with something that is not one")
        # The objective document carries its money by institution per year, not its lines
        # (issue 18: 88,000 lines made it 16.9 MB); a page of lines comes from funding later.
        alerts = await or_none(gateway.get("notifier", "/v1/deliveries", token, objective_id=objective_id, limit=50))
        return render(request, "objective.html", session=session, objective=objective, alerts=alerts)

    return router
