"""The partners service's networks: forming them, memberships that open and close over
time, and reading who was a member on a day. Admin token required, like every partners
route: memberships say who works with whom."""

from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from regia_shared.http.auth import STAFF
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import Page, Paged, text
from regia_shared.observability.logs import get_logger

from ..adapters import networks
from ..domain.commands import FormNetwork, JoinNetwork, LeaveNetwork
from ..domain.errors import InvalidPartner
from ..service_layer import network_membership
from .models import FormedNetwork, ListedNetwork, MembershipJoined, MembershipLeft, NetworkDetails
from .responses import (
    CorrelationId,
    OnDay,
    PathId,
    QueryId,
    SearchText,
    answer,
    changed,
    correlation,
    search_text,
)

log = get_logger(__name__)


def networks_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["networks"], dependencies=[Depends(STAFF)])

    @router.post(
        "/networks",
        status_code=201,
        response_model=FormedNetwork,
        responses={200: {"model": FormedNetwork, "description": "Formed already: nothing changed"}},
    )
    async def form_network(
        pool: DatabasePool, command: Annotated[FormNetwork, Body()], x_correlation_id: CorrelationId = None
    ) -> JSONResponse:
        """Record a network of partners. The same request again answers 200."""
        outcome = await network_membership.form_network(pool, command, correlation(x_correlation_id))
        if outcome.created:
            log.info("network formed", network_id=command.network_id)
        return answer(outcome, asdict(outcome.value), f"/v1/networks/{command.network_id}")

    @router.put(
        "/networks/{network_id}/members/{partner_id}",
        status_code=201,
        response_model=MembershipJoined,
        responses={200: {"model": MembershipJoined, "description": "A member since that day already"}},
    )
    async def join_network(
        pool: DatabasePool,
        network_id: PathId,
        partner_id: PathId,
        command: Annotated[JoinNetwork, Body()],
        x_correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """A partner joins the network on a day. 201 when it joins now, 200 when it is
        already a member since that day."""
        outcome = await network_membership.join_network(
            pool, network_id, partner_id, command, correlation(x_correlation_id)
        )
        if outcome.created:
            log.info("network member joined", network_id=network_id, partner_id=partner_id)
        return answer(outcome, {"network_id": network_id, **asdict(outcome.value)}, f"/v1/networks/{network_id}")

    @router.delete("/networks/{network_id}/members/{partner_id}", response_model=MembershipLeft)
    async def leave_network(
        pool: DatabasePool,
        network_id: PathId,
        partner_id: PathId,
        command: Annotated[LeaveNetwork, Body()],
        x_correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """A partner leaves the network on a day: its membership closes and stays in the
        history."""
        outcome = await network_membership.leave_network(
            pool, network_id, partner_id, command, correlation(x_correlation_id)
        )
        if outcome.created:
            log.info("network member left", network_id=network_id, partner_id=partner_id)
        return changed(outcome, {"network_id": network_id, **asdict(outcome.value)})

    @router.get("/networks", response_model=Page[ListedNetwork])
    async def list_networks(
        pool: DatabasePool,
        page: Paged,
        q: SearchText = None,
        partner_id: QueryId = None,
        objective_id: QueryId = None,
        on: OnDay = None,
    ) -> Page[dict]:
        """Networks by name, then id, each with its member count on `on` (today when not
        given). q matches anywhere in the name, case-insensitively and literally;
        partner_id: the networks it is a member of on `on`."""
        day = on or date.today()
        q_text = search_text(q)
        filters = {"q": q_text, "partner_id": partner_id, "objective_id": objective_id, "on": on}
        after = page.after("networks", filters, (text, text, text))
        async with pool.acquire() as conn:
            found = await networks.search(
                conn,
                day,
                q=q_text,
                partner_id=partner_id,
                objective_id=objective_id,
                after=after,
                limit=page.limit + 1,
            )
        return page.of([{**n, "on": day} for n in found], key=lambda r: (r["name_key"], r["name"], r["network_id"]))

    @router.get("/networks/{network_id}", response_model=NetworkDetails)
    async def get_network(
        pool: DatabasePool,
        network_id: PathId,
        on: OnDay = None,
        as_of: Annotated[date | None, Query(deprecated=True)] = None,
    ) -> JSONResponse:
        """The network and its members on `on` (today when not given): those that joined
        on or before it and had not left by it. `as_of` is the former name of `on`."""
        if on and as_of and on != as_of:
            raise InvalidPartner("give the day as `on` only", "query.as_of")
        day = on or as_of or date.today()
        async with pool.acquire() as conn:
            network = await networks.get(conn, network_id)
            if network is None:
                raise HTTPException(404, detail=f"no network {network_id!r}")
            members = await networks.members_on(conn, network_id, day)
        body = {
            **asdict(network),
            "on": day,
            "as_of": day,
            "member_count": len(members),
            "members": [asdict(m) for m in members],
        }
        return JSONResponse(jsonable_encoder(body))

    return router
