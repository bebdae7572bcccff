"""The partners service's HTTP API. Every route needs the administrators' token: writes
change what every service knows about partners, and reads disclose people's addresses."""

import secrets
from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import (
    APIRouter,
    Body,
    Depends,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
)
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from prometheus_client import Counter

from regia_shared.auth import require_admin
from regia_shared.errors import error_body
from regia_shared.events.partners import PartnerKind
from regia_shared.levels import GovernmentLevel
from regia_shared.logs import bind_contextvars, get_logger

from .. import handlers
from ..adapters import contacts, leads, networks, partners, preferences, roles
from ..domain.commands import (
    ID_PATTERN,
    AddContact,
    AssignLead,
    AssignRole,
    FormNetwork,
    JoinNetwork,
    LeaveNetwork,
    RegisterPartner,
    SetPreferences,
)
from ..domain.errors import PartnersError

log = get_logger(__name__)
PathId = Annotated[str, Path(min_length=1, max_length=100, pattern=ID_PATTERN)]
CorrelationId = Annotated[str | None, Header(max_length=200)]


def _refused(exc: PartnersError) -> JSONResponse:
    log.info("partners command refused", reason=exc.code, field=exc.field)
    return JSONResponse(error_body(exc.code, exc.message, exc.field), exc.status)


def _correlation(header: str | None) -> str:
    correlation_id = header or secrets.token_hex(16)
    bind_contextvars(correlation_id=correlation_id)
    return correlation_id


def _answer(outcome: handlers.Outcome, body: dict, location: str) -> JSONResponse:
    status = 201 if outcome.created else 200
    body = {**body, "event_id": str(outcome.event_id) if outcome.event_id else None}
    return JSONResponse(jsonable_encoder(body), status, headers={"Location": location})


def _changed(outcome: handlers.Outcome, body: dict) -> JSONResponse:
    """200 either way; `changed` tells whether this request changed anything."""
    body = {**body, "changed": outcome.created,
            "event_id": str(outcome.event_id) if outcome.event_id else None}
    return JSONResponse(jsonable_encoder(body), 200)


def partners_router(registry) -> APIRouter:  # type: ignore[no-untyped-def]
    router = APIRouter(prefix="/v1", tags=["partners"], dependencies=[Depends(require_admin)])
    registered = Counter("regia_partners_registered_total", "Partners registered",
                         ["kind"], registry=registry)

    @router.post("/partners", status_code=201)
    async def register_partner(request: Request, command: Annotated[RegisterPartner, Body()],
                               x_correlation_id: CorrelationId = None) -> JSONResponse:
        """Register a partner. The same request again answers 200 and publishes nothing."""
        try:
            outcome = await handlers.register_partner(
                request.app.state.runtime.pool, command, _correlation(x_correlation_id))
        except PartnersError as exc:
            return _refused(exc)
        if outcome.created:
            registered.labels(command.kind.value).inc()
            log.info("partner registered", partner_id=command.partner_id, kind=command.kind.value)
        body = {**asdict(outcome.value), "kind": outcome.value.kind.value}
        return _answer(outcome, body, f"/v1/partners/{command.partner_id}")

    @router.get("/partners")
    async def list_partners(request: Request, kind: PartnerKind | None = None,
                            q: Annotated[str | None, Query(max_length=300)] = None,
                            level: GovernmentLevel | None = None,
                            limit: Annotated[int, Query(ge=1, le=500)] = 100,
                            offset: Annotated[int, Query(ge=0)] = 0) -> list[dict]:
        """Partners by id; q matches anywhere in the name, case-insensitively."""
        async with request.app.state.runtime.pool.acquire() as conn:
            return await partners.listing(conn, kind, q=q.strip() if q else None, level=level,
                                          limit=limit, offset=offset)

    @router.get("/partners/{partner_id}")
    async def get_partner(request: Request, partner_id: str) -> dict:
        """A partner with its contacts and the objectives it leads."""
        async with request.app.state.runtime.pool.acquire() as conn:
            partner = await partners.details(conn, partner_id)
            if partner is None:
                raise HTTPException(404, detail=f"no partner {partner_id!r}")
            partner["contacts"] = await contacts.of_partner(conn, partner_id)
            partner["objectives_led"] = await leads.led_by(conn, partner_id)
        return partner

    @router.get("/partners/{partner_id}/contacts")
    async def list_contacts(request: Request, partner_id: str) -> list[dict]:
        async with request.app.state.runtime.pool.acquire() as conn:
            if await partners.get(conn, partner_id) is None:
                raise HTTPException(404, detail=f"no partner {partner_id!r}")
            return await contacts.of_partner(conn, partner_id)

    @router.post("/partners/{partner_id}/contacts", status_code=201)
    async def add_contact(request: Request, partner_id: PathId, command: Annotated[AddContact, Body()],
                          x_correlation_id: CorrelationId = None) -> JSONResponse:
        """Add a person to tell. Without a contact_id one is chosen and the address
        identifies the person, so a retried request answers 200 with the same contact."""
        try:
            outcome = await handlers.add_contact(
                request.app.state.runtime.pool, partner_id, command, _correlation(x_correlation_id))
        except PartnersError as exc:
            return _refused(exc)
        if outcome.created:
            # The address is personal data: the log names the contact by id only.
            log.info("contact added", partner_id=partner_id, contact_id=outcome.value.contact_id)
        return _answer(outcome, asdict(outcome.value),
                       f"/v1/partners/{partner_id}#contact-{outcome.value.contact_id}")

    @router.put("/objectives/{objective_id}/lead")
    async def assign_lead(request: Request, objective_id: PathId, command: Annotated[AssignLead, Body()],
                          x_correlation_id: CorrelationId = None) -> JSONResponse:
        """Make a partner the lead of an objective (replacing any previous lead)."""
        try:
            outcome = await handlers.assign_lead(
                request.app.state.runtime.pool, objective_id, command, _correlation(x_correlation_id))
        except PartnersError as exc:
            return _refused(exc)
        if outcome.created:
            log.info("objective lead assigned", objective_id=objective_id, partner_id=command.partner_id)
        body = {"objective_id": objective_id, "partner_id": outcome.value, "changed": outcome.created,
                "event_id": str(outcome.event_id) if outcome.event_id else None}
        return JSONResponse(body, 200, headers={"Location": f"/v1/objectives/{objective_id}/lead"})

    @router.get("/objectives/{objective_id}/lead")
    async def get_lead(request: Request, objective_id: str) -> dict:
        async with request.app.state.runtime.pool.acquire() as conn:
            partner_id = await leads.current(conn, objective_id)
        if partner_id is None:
            raise HTTPException(404, detail=f"objective {objective_id!r} has no lead")
        return {"objective_id": objective_id, "partner_id": partner_id}

    @router.put("/objectives/{objective_id}/roles/{partner_id}")
    async def assign_role(request: Request, objective_id: PathId, partner_id: PathId,
                          command: Annotated[AssignRole, Body()],
                          x_correlation_id: CorrelationId = None) -> JSONResponse:
        """Give a partner a role on an objective or action (it keeps its other roles).
        201 when assigned now, 200 when it already held it."""
        try:
            outcome = await handlers.assign_role(request.app.state.runtime.pool, objective_id, partner_id,
                                                 command.role, _correlation(x_correlation_id))
        except PartnersError as exc:
            return _refused(exc)
        if outcome.created:
            log.info("objective role assigned", objective_id=objective_id, partner_id=partner_id,
                     role=command.role.value)
        body = {"objective_id": objective_id, "partner_id": partner_id, "role": command.role.value}
        return _answer(outcome, body, f"/v1/objectives/{objective_id}/roles")

    @router.delete("/objectives/{objective_id}/roles/{partner_id}")
    async def withdraw_role(request: Request, objective_id: PathId, partner_id: PathId,
                            command: Annotated[AssignRole, Body()],
                            x_correlation_id: CorrelationId = None) -> JSONResponse:
        """Withdraw one role of a partner on an objective. Withdrawing a role it does not
        hold answers 200 with changed false, so a retried request succeeds."""
        try:
            outcome = await handlers.withdraw_role(request.app.state.runtime.pool, objective_id, partner_id,
                                                   command.role, _correlation(x_correlation_id))
        except PartnersError as exc:
            return _refused(exc)
        if outcome.created:
            log.info("objective role withdrawn", objective_id=objective_id, partner_id=partner_id,
                     role=command.role.value)
        return _changed(outcome, {"objective_id": objective_id, "partner_id": partner_id,
                                  "role": command.role.value})

    @router.get("/objectives/{objective_id}/roles")
    async def list_roles(request: Request, objective_id: PathId) -> dict:
        """Every partner's roles on the objective, the lead (role LEAD) included."""
        async with request.app.state.runtime.pool.acquire() as conn:
            return {"objective_id": objective_id, "roles": await roles.of_objective(conn, objective_id)}

    @router.post("/networks", status_code=201)
    async def form_network(request: Request, command: Annotated[FormNetwork, Body()],
                           x_correlation_id: CorrelationId = None) -> JSONResponse:
        """Record a network of partners. The same request again answers 200."""
        try:
            outcome = await handlers.form_network(request.app.state.runtime.pool, command,
                                                  _correlation(x_correlation_id))
        except PartnersError as exc:
            return _refused(exc)
        if outcome.created:
            log.info("network formed", network_id=command.network_id)
        return _answer(outcome, asdict(outcome.value), f"/v1/networks/{command.network_id}")

    @router.put("/networks/{network_id}/members/{partner_id}")
    async def join_network(request: Request, network_id: PathId, partner_id: PathId,
                           command: Annotated[JoinNetwork, Body()],
                           x_correlation_id: CorrelationId = None) -> JSONResponse:
        """A partner joins the network on a day. 201 when it joins now, 200 when it is
        already a member since that day."""
        try:
            outcome = await handlers.join_network(request.app.state.runtime.pool, network_id, partner_id,
                                                  command, _correlation(x_correlation_id))
        except PartnersError as exc:
            return _refused(exc)
        if outcome.created:
            log.info("network member joined", network_id=network_id, partner_id=partner_id)
        return _answer(outcome, {"network_id": network_id, **asdict(outcome.value)},
                       f"/v1/networks/{network_id}")

    @router.delete("/networks/{network_id}/members/{partner_id}")
    async def leave_network(request: Request, network_id: PathId, partner_id: PathId,
                            command: Annotated[LeaveNetwork, Body()],
                            x_correlation_id: CorrelationId = None) -> JSONResponse:
        """A partner leaves the network on a day: its membership closes and stays in the
        history."""
        try:
            outcome = await handlers.leave_network(request.app.state.runtime.pool, network_id, partner_id,
                                                   command, _correlation(x_correlation_id))
        except PartnersError as exc:
            return _refused(exc)
        if outcome.created:
            log.info("network member left", network_id=network_id, partner_id=partner_id)
        return _changed(outcome, {"network_id": network_id, **asdict(outcome.value)})

    @router.get("/networks/{network_id}")
    async def get_network(request: Request, network_id: PathId, as_of: date | None = None) -> dict:
        """The network and its members on `as_of` (today when not given)."""
        day = as_of or date.today()
        async with request.app.state.runtime.pool.acquire() as conn:
            network = await networks.get(conn, network_id)
            if network is None:
                raise HTTPException(404, detail=f"no network {network_id!r}")
            members = await networks.members_on(conn, network_id, day)
        return {**asdict(network), "as_of": day, "members": [asdict(m) for m in members]}

    @router.put("/contacts/{contact_id}/preferences")
    async def set_preferences(request: Request, contact_id: PathId,
                              command: Annotated[SetPreferences, Body()],
                              x_correlation_id: CorrelationId = None) -> JSONResponse:
        """How a contact wants to be told: channels, language, cadence and event kinds."""
        try:
            outcome = await handlers.set_preferences(request.app.state.runtime.pool, contact_id, command,
                                                     _correlation(x_correlation_id))
        except PartnersError as exc:
            return _refused(exc)
        if outcome.created:
            log.info("contact preferences changed", contact_id=contact_id)
        return _changed(outcome, {"contact_id": contact_id, **asdict(outcome.value)})

    @router.get("/contacts/{contact_id}/preferences")
    async def get_preferences(request: Request, contact_id: PathId) -> dict:
        async with request.app.state.runtime.pool.acquire() as conn:
            prefs = await preferences.get(conn, contact_id)
        if prefs is None:
            raise HTTPException(404, detail=f"contact {contact_id!r} has no preferences")
        return {"contact_id": contact_id, **asdict(prefs)}

    return router
