"""The read-only pages: overview, a plan's tree, an objective. Each asks the services what
it needs concurrently; a service that does not answer leaves a gap that says so. No page
walks a whole listing: each asks for the page it shows (issue 18: a region's 200,000
objectives and 1,000,000 lines behind the same pages)."""

import asyncio
import datetime
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from . import charts, index, objective_view, overview, tree
from .auth import Anyone, ObjectiveReader, Staff
from .feed import remember
from .gateway import Forbidden, Gateway, NotFound, Refused, Unavailable, listed, or_none, path
from .rendering import render
from .roles import LEAD, STAFF, home_of

NAMES_ASKED = 30  # partners' names one page asks for at most (the rest read as their ids)


def gateway_of(request: Request) -> Gateway:
    return request.app.state.gateway


def pages_router() -> APIRouter:
    router = APIRouter()

    @router.get("/")
    async def overview_page(
        request: Request,
        session: Anyone,
        year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
        plan_id: Annotated[str | None, Query(max_length=100)] = None,
    ):
        if session.role not in STAFF:  # the overview is the staff's; others start on their own page
            return RedirectResponse(home_of(session.role), status_code=303)
        gateway, token = gateway_of(request), session.token
        plan_id = plan_id or None
        health, summary, plans, totals = await asyncio.gather(
            gateway.health(),
            summary_or_missing(gateway, token, plan_id),
            or_none(gateway.all_plans(token)),
            or_none(gateway.get("funding", "/v1/totals", token, by=["level", "year"])),
        )
        totals = totals if isinstance(totals, list) else None
        has_summary = isinstance(summary, dict)
        if has_summary:
            years = overview.summary_years(summary)
        else:
            years = overview.fallback_years(totals, plans)
        today = datetime.date.today().year
        chosen = year if year is not None else (tree.default_year(years[0], years[-1], today) if years else today)
        feed = request.app.state.feed
        recent_ids = overview.newest_first(feed.went_at_risk)
        by_gap, recent_docs, fallback_pages = await asyncio.gather(
            or_none(
                gateway.get(
                    "objectives",
                    "/v1/objectives",
                    token,
                    status="AT_RISK",
                    fiscal_year=chosen,
                    sort="gap",
                    limit=overview.AT_RISK_ROWS,
                    **({"plan_id": plan_id} if plan_id else {}),
                )
            ),
            asyncio.gather(
                *(or_none(gateway.get("objectives", path("/v1/objectives/{}", o), token)) for o in recent_ids)
            ),
            fallback_counts(gateway, token, chosen, plan_id) if summary == "missing" else none(),
        )
        if has_summary:
            figures = overview.summary_for(summary, chosen)
        else:
            figures = overview.fallback_for(chosen, fallback_pages or {}, totals)
        gap_items, _ = listed(by_gap)
        # What just went at risk is news whichever year it is in: shown on top in every year.
        pinned = overview.at_risk_rows(
            [d for d in recent_docs if isinstance(d, dict) and (not plan_id or d.get("plan_id") == plan_id)],
            None,
            recent_ids,
        )
        rows = overview.merge(pinned, overview.at_risk_rows(gap_items or [], chosen, recent_ids))
        # Whether anyone was told, per row: the notifier's newest deliveries of the objective.
        told = await asyncio.gather(
            *(
                or_none(gateway.get("notifier", "/v1/deliveries", token, objective_id=r.objective_id, limit=20))
                for r in rows
            )
        )
        for row, answer in zip(rows, told, strict=True):
            row.told = overview.told(listed(answer)[0], row.year.get("status_since"))
        names = await partner_names(
            request,
            token,
            [r.lead for r in rows if r.lead]
            + [str(r.last_change.get("institution_id")) for r in rows if r.last_change],
        )
        return render(
            request,
            "overview.html",
            session=session,
            health=health,
            plans=plans,
            plan_id=plan_id,
            totals=totals,
            summary_state="ok" if has_summary else summary,
            figures=figures,
            year=chosen,
            years=sorted({*years, chosen}),
            at_risk=rows,
            at_risk_known=gap_items is not None,
            more_at_risk=isinstance(by_gap, dict) and bool(by_gap.get("next_cursor")),
            names=names,
            fallback_count=overview.FALLBACK_COUNT,
        )

    @router.get("/objectives")
    async def objectives_index(
        request: Request,
        session: ObjectiveReader,
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
        if session.role is LEAD:  # a project lead's objectives are those their partner leads
            lead = session.account.partner_id
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
        session: Staff,
        plan_id: str,
        year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
        only_at_risk: bool = False,
        lead: Annotated[str | None, Query(max_length=100)] = None,
        level: Annotated[str | None, Query(max_length=30)] = None,
    ):
        if level and level not in charts.LEVELS:
            raise Refused(f"level: not a level ({', '.join(charts.LEVELS)})")
        gateway, token = gateway_of(request), session.token
        filters = tree.TreeFilters(only_at_risk, lead or None, level or None)
        # The service filters the tree and keeps one year's figures (issue 18): a plan of
        # 3,000 nodes with all its years is never asked for. Without a year, this year is
        # asked, and the plan's nearest end instead when the plan does not cover it.
        asked: dict[str, Any] = {"only_at_risk": "true"} if filters.only_at_risk else {}
        asked |= {"lead": filters.lead} if filters.lead else {}
        asked |= {"level": filters.level} if filters.level else {}
        chosen = year if year is not None else datetime.date.today().year
        try:
            plan = await gateway.get("objectives", path("/v1/plans/{}", plan_id), token, fiscal_year=chosen, **asked)
            first, last = plan_years(plan, plan_id)
            if not first <= chosen <= last:
                chosen = tree.default_year(first, last, chosen)
                plan = await gateway.get(
                    "objectives", path("/v1/plans/{}", plan_id), token, fiscal_year=chosen, **asked
                )
                first, last = plan_years(plan, plan_id)
        except NotFound:
            return render(request, "missing.html", status_code=404, session=session, what=plan_id)
        threshold = plan.get("at_risk_threshold_pct")
        threshold = threshold if isinstance(threshold, int) and not isinstance(threshold, bool) else 80
        built = tree.build(plan.get("nodes") or [], chosen, threshold)
        # Narrowed here too: the same filters again change nothing on the service's answer,
        # and a service that sent the whole tree is filtered all the same.
        nodes = tree.narrow(built, filters)
        plan_year = tree.year_of(plan.get("years", []), chosen)
        return render(
            request,
            "plan.html",
            session=session,
            plan=plan,
            year=chosen,
            years=range(first, last + 1),
            nodes=nodes,
            node_count=tree.count(nodes),
            matched_count=tree.matched(nodes),
            plan_year=plan_year,
            plan_figures=tree.figures_of({}, plan_year, threshold),
            filters=filters,
            leads=sorted({*tree.leads(nodes), *([filters.lead] if filters.lead else [])}),
            kinds=tree.KINDS,
        )

    @router.get("/objectives/{objective_id}")
    async def objective_page(
        request: Request,
        session: ObjectiveReader,
        objective_id: str,
        fiscal_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
        level: Annotated[str | None, Query(max_length=30)] = None,
        institution_id: Annotated[str | None, Query(max_length=100)] = None,
        sort: Annotated[str, Query(max_length=20)] = "line_id",
        cursor: Annotated[str | None, Query(max_length=2000)] = None,
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    ):
        lines_query = objective_view.LineQuery(fiscal_year, level or None, institution_id or None, sort)
        wrong = objective_view.refusal(lines_query)
        if wrong:
            raise Refused(wrong)
        gateway, token = gateway_of(request), session.token
        one = path("/v1/objectives/{}", objective_id)
        # Everything the page shows, asked at once: the document (figures by year, level
        # and institution, no lines), the newest changes, one page of lines, the alerts,
        # indicators, milestones and the partners' roles.
        document, changes, lines, alerts, indicators, milestones, roles = await asyncio.gather(
            gateway.get("objectives", one, token),
            or_none(gateway.get("objectives", one + "/changes", token, limit=objective_view.CHANGES_SHOWN)),
            lines_page(gateway, token, objective_id, lines_query, cursor),
            or_none(gateway.get("notifier", "/v1/deliveries", token, objective_id=objective_id, limit=20)),
            or_none(gateway.get("objectives", one + "/indicators", token)),
            or_none(gateway.get("objectives", one + "/milestones", token)),
            or_none(gateway.get("partners", one + "/roles", token)),
            return_exceptions=True,
        )
        if isinstance(document, NotFound):
            return render(request, "missing.html", status_code=404, session=session, what=objective_id)
        if isinstance(document, BaseException):
            raise document
        if not isinstance(document, dict):
            raise Unavailable(f"objectives answered objective {objective_id!r} with something that is not one")
        if session.role is LEAD and document.get("lead") != session.account.partner_id:
            raise Forbidden("a project lead sees the objectives their partner leads")
        if isinstance(lines, Refused):  # a cursor replayed under other filters, a forged one
            raise lines
        change_rows, more_changes = listed(changes)
        line_rows, next_cursor = listed(lines) if not isinstance(lines, BaseException) else (None, None)
        role_rows, _ = listed(roles, key="roles")
        reviews = await objective_reviews(gateway, token, document)
        names = await partner_names(
            request,
            token,
            [str(c.get("institution_id") or "") for c in change_rows or []]
            + [str(r.get("institution_id") or "") for r in line_rows or []]
            + objective_view.institutions_of(document)
            + [str(r.get("partner_id") or "") for r in role_rows or []]
            + ([document["lead"]] if isinstance(document.get("lead"), str) else []),
        )
        return render(
            request,
            "objective.html",
            session=session,
            objective=document,
            changes=change_rows,
            more_changes=bool(more_changes),
            lines=line_rows,
            lines_error=str(lines) if isinstance(lines, BaseException) else None,
            next_cursor=next_cursor,
            cursor=cursor,
            page=page if cursor else 1,
            lines_query=lines_query,
            line_sorts=objective_view.LINE_SORTS,
            lines_page_size=objective_view.LINES_PAGE,
            institutions=objective_view.institutions_of(document),
            alerts=listed(alerts)[0],
            indicators=indicators if isinstance(indicators, list) else None,
            milestones=milestones if isinstance(milestones, list) else None,
            roles=role_rows,
            reviews=reviews,
            names=names,
            view=objective_view,
        )

    return router


async def lines_page(
    gateway: Gateway, token: str, objective_id: str, query: objective_view.LineQuery, cursor: str | None
) -> Any:
    """One page of the objective's lines from funding, filtered and sorted as asked."""
    params: dict[str, Any] = {"objective_id": objective_id, "limit": objective_view.LINES_PAGE, **query.filters()}
    params["sort"] = query.sort
    if cursor:
        params["cursor"] = cursor
    return await gateway.get("funding", "/v1/funding-lines", token, **params)


async def objective_reviews(gateway: Gateway, token: str, document: dict) -> list[dict] | None:
    """The objective's rows in its plan's closed annual reviews (its years that have
    ended, the most recent few); None when it belongs to no plan. A year not closed yet
    answers 404 and is left out."""
    plan_id = document.get("plan_id")
    if not isinstance(plan_id, str) or not plan_id:
        return None
    years = objective_view.closed_years(document, datetime.date.today().year)
    answers = await asyncio.gather(
        *(or_none(gateway.get("objectives", path("/v1/plans/{}/reviews/{}", plan_id, y), token)) for y in years)
    )
    rows = [objective_view.review_row(a, str(document.get("objective_id"))) for a in answers]
    return [r for r in rows if r]


def plan_years(plan: object, plan_id: str) -> tuple[int, int]:
    if not isinstance(plan, dict) or not all(
        isinstance(plan.get(k), int) and not isinstance(plan.get(k), bool) for k in ("first_year", "last_year")
    ):
        raise Unavailable(f"objectives answered plan {plan_id!r} without its first and last year")
    return plan["first_year"], plan["last_year"]


async def none() -> None:
    return None


async def summary_or_missing(gateway: Gateway, token: str, plan_id: str | None) -> dict | str:
    """The objectives service's summary, or why not: "missing" while the service has no
    `GET /v1/summary` (a 404: the overview counts from the list instead and says so),
    "silent" when it did not answer."""
    try:
        return await gateway.summary(token, plan_id=plan_id)
    except NotFound:
        return "missing"
    except (Unavailable, Refused):
        return "silent"


async def fallback_counts(gateway: Gateway, token: str, fiscal_year: int, plan_id: str | None) -> dict[str, Any]:
    """Without a summary: one page of the filtered list per status (at most
    FALLBACK_COUNT each), never the whole list."""
    answers = await asyncio.gather(
        *(
            or_none(
                gateway.get(
                    "objectives",
                    "/v1/objectives",
                    token,
                    status=status,
                    fiscal_year=fiscal_year,
                    limit=overview.FALLBACK_COUNT,
                    **({"plan_id": plan_id} if plan_id else {}),
                )
            )
            for status in tree.STATUS_RANK
        )
    )
    return dict(zip(tree.STATUS_RANK, answers, strict=True))


async def partner_names(request: Request, token: str, ids: Iterable[str]) -> dict[str, str]:
    """Partners' names by id (institutions, leads): those the live feed learnt already,
    the rest asked of the partners service, a few per page and remembered; an id nobody
    names reads as itself."""
    feed = request.app.state.feed
    wanted = sorted({i for i in ids if i})
    missing = [i for i in wanted if i not in feed.names][:NAMES_ASKED]

    async def name(partner_id: str) -> None:
        found = await or_none(gateway_of(request).get("partners", path("/v1/partners/{}", partner_id), token))
        if isinstance(found, dict) and isinstance(found.get("name"), str):
            remember(feed.names, partner_id, found["name"])

    await asyncio.gather(*(name(i) for i in missing))
    return {i: feed.names.get(i) or i for i in wanted}
