"""The read-only pages: overview, a plan's tree, an objective. Each asks the services what
it needs concurrently; a service that does not answer leaves a gap that says so."""

import asyncio
import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from . import index, overview, tree
from .auth import Admin
from .gateway import Gateway, NotFound, Refused, Unavailable, items_of, or_none, path
from .rendering import render


def gateway_of(request: Request) -> Gateway:
    return request.app.state.gateway


def pages_router() -> APIRouter:
    router = APIRouter()

    @router.get("/")
    async def overview_page(
        request: Request, session: Admin, year: Annotated[int | None, Query(ge=1990, le=2100)] = None
    ):
        gateway, token = gateway_of(request), session.token
        health, objectives, plans, totals = await asyncio.gather(
            gateway.health(),
            or_none(gateway.all_objectives(token)),
            or_none(gateway.all_plans(token)),
            or_none(gateway.get("funding", "/v1/totals", token, by=["level", "year"])),
        )
        feed = request.app.state.feed
        years = overview.years_of(objectives or [])
        today = datetime.date.today().year
        chosen = year if year is not None else (tree.default_year(years[0], years[-1], today) if years else today)
        return render(
            request,
            "overview.html",
            session=session,
            health=health,
            plans=plans,
            totals=totals,
            objectives_known=objectives is not None,
            year=chosen,
            years=sorted({*years, chosen}),
            counts=overview.counts_in_year(objectives or [], chosen),
            at_risk=overview.at_risk_first(objectives or [], feed.went_at_risk)[:100],
        )

    @router.get("/objectives")
    async def objectives_index(
        request: Request,
        session: Admin,
        status: Annotated[str | None, Query(max_length=30)] = None,
        plan_id: Annotated[str | None, Query(max_length=100)] = None,
        fiscal_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
        lead: Annotated[str | None, Query(max_length=100)] = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        sort: Annotated[str, Query(max_length=10)] = "gap",
        cursor: Annotated[str | None, Query(max_length=2000)] = None,
    ):
        if status and status not in index.STATUSES:
            raise Refused(f"status: not a status ({', '.join(index.STATUSES)})")
        if sort not in index.SORTS:
            raise Refused(f"sort: sort by {' or '.join(index.SORTS)}")
        query = index.Query(status or None, plan_id or None, fiscal_year, lead or None, (q or "").strip() or None, sort)
        gateway, token = gateway_of(request), session.token
        params = query.params() | ({"cursor": cursor} if cursor else {})
        refused = None
        try:
            answer = await gateway.get("objectives", "/v1/objectives", token, limit=index.PAGE, **params)
        except Refused as exc:
            # A service that does not know these filters yet refuses them by name (422):
            # ask it for its plain list, which the console filters itself and says so.
            refused = str(exc)
            answer = []
        if isinstance(answer, list):  # the old plain list: its largest page, filtered here
            answer = await or_none(gateway.get("objectives", "/v1/objectives", token, limit=index.LEGACY_PAGE))
        listing = index.read(answer, query)
        if listing is None:
            raise Unavailable("objectives answered GET /v1/objectives with neither a page nor a list")
        plans = await or_none(gateway.get("objectives", "/v1/plans", token))
        return render(
            request,
            "objectives.html",
            session=session,
            query=query,
            listing=listing,
            refused=refused,
            cursor=cursor,
            plans=plans if isinstance(plans, list) else [],
            statuses=index.STATUSES,
            gap_to_threshold=index.gap_to_threshold,
            gap_to_full=index.gap_to_full,
        )

    @router.get("/plans/{plan_id}")
    async def plan_page(
        request: Request,
        session: Admin,
        plan_id: str,
        year: int | None = None,
        only_at_risk: bool = False,
        lead: Annotated[str | None, Query(max_length=100)] = None,
        level: Annotated[str | None, Query(max_length=30)] = None,
    ):
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
        threshold = plan.get("at_risk_threshold_pct")
        threshold = threshold if isinstance(threshold, int) and not isinstance(threshold, bool) else 80
        # Filtered here, on the whole tree the service sent: the filters work the same
        # whether or not the objectives service narrows the tree itself.
        everything = tree.build(plan.get("nodes") or [], chosen, threshold)
        filters = tree.TreeFilters(only_at_risk, lead or None, level or None)
        all_leads = tree.leads(everything)
        node_count = tree.count(everything)
        nodes = tree.narrow(everything, filters)
        plan_year = tree.year_of(plan.get("years", []), chosen)
        return render(
            request,
            "plan.html",
            session=session,
            plan=plan,
            year=chosen,
            years=range(first, last + 1),
            nodes=nodes,
            node_count=node_count,
            shown_count=tree.count(nodes),
            plan_year=plan_year,
            plan_figures=tree.figures_of({}, plan_year, threshold),
            filters=filters,
            leads=all_leads,
            kinds=tree.KINDS,
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
        found = await or_none(gateway.get("notifier", "/v1/deliveries", token, objective_id=objective_id, limit=50))
        alerts, _ = items_of(found)  # the 50 newest: the notifier's first page
        return render(request, "objective.html", session=session, objective=objective, alerts=alerts)

    return router
