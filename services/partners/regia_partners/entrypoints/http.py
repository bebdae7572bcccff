"""The partners service's HTTP API. Every route needs the administrators' token: writes
change what every service knows about partners, and reads disclose people's addresses."""

from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter

from regia_shared.auth import require_admin
from regia_shared.events.partners import ObjectiveRole, PartnerKind
from regia_shared.levels import GovernmentLevel
from regia_shared.logs import get_logger

from .. import handlers
from ..adapters import contacts, leads, partners, preferences, roles
from ..domain.commands import AddContact, AssignLead, AssignRole, RegisterPartner, SetPreferences
from ..domain.errors import PartnersError
from .responses import (
    CorrelationId,
    Limit,
    Offset,
    OnDay,
    PathId,
    QueryId,
    SearchText,
    TerritoryText,
    answer,
    changed,
    correlation,
    refused,
    search_text,
)

log = get_logger(__name__)


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
                request.app.state.runtime.pool, command, correlation(x_correlation_id))
        except PartnersError as exc:
            return refused(exc)
        if outcome.created:
            registered.labels(command.kind.value).inc()
            log.info("partner registered", partner_id=command.partner_id, kind=command.kind.value)
        body = {**asdict(outcome.value), "kind": outcome.value.kind.value}
        return answer(outcome, body, f"/v1/partners/{command.partner_id}")

    @router.get("/partners")
    async def list_partners(request: Request, q: SearchText = None, kind: PartnerKind | None = None,
                            level: GovernmentLevel | None = None, objective_id: QueryId = None,
                            role: ObjectiveRole | None = None, network_id: QueryId = None,
                            territory: TerritoryText = None, on: OnDay = None,
                            limit: Limit = 100, offset: Offset = 0) -> list[dict]:
        """Partners by name, then id. q matches anywhere in the name, case-insensitively and
        literally (% and _ are not wildcards); objective_id and role: partners holding a role
        on an objective (LEAD included), either alone meaning any; network_id: its members
        on `on` (today when not given); territory: the whole territory, case-insensitively."""
        search = partners.Search(q=search_text(q), kind=kind, level=level, objective_id=objective_id,
                                 role=role, network_id=network_id, territory=search_text(territory),
                                 on=on or date.today())
        async with request.app.state.runtime.pool.acquire() as conn:
            return await partners.search(conn, search, limit=limit, offset=offset)

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
                request.app.state.runtime.pool, partner_id, command, correlation(x_correlation_id))
        except PartnersError as exc:
            return refused(exc)
        if outcome.created:
            # The address is personal data: the log names the contact by id only.
            log.info("contact added", partner_id=partner_id, contact_id=outcome.value.contact_id)
        return answer(outcome, asdict(outcome.value),
                       f"/v1/partners/{partner_id}#contact-{outcome.value.contact_id}")

    @router.put("/objectives/{objective_id}/lead")
    async def assign_lead(request: Request, objective_id: PathId, command: Annotated[AssignLead, Body()],
                          x_correlation_id: CorrelationId = None) -> JSONResponse:
        """Make a partner the lead of an objective (replacing any previous lead)."""
        try:
            outcome = await handlers.assign_lead(
                request.app.state.runtime.pool, objective_id, command, correlation(x_correlation_id))
        except PartnersError as exc:
            return refused(exc)
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
                                                 command.role, correlation(x_correlation_id))
        except PartnersError as exc:
            return refused(exc)
        if outcome.created:
            log.info("objective role assigned", objective_id=objective_id, partner_id=partner_id,
                     role=command.role.value)
        body = {"objective_id": objective_id, "partner_id": partner_id, "role": command.role.value}
        return answer(outcome, body, f"/v1/objectives/{objective_id}/roles")

    @router.delete("/objectives/{objective_id}/roles/{partner_id}")
    async def withdraw_role(request: Request, objective_id: PathId, partner_id: PathId,
                            command: Annotated[AssignRole, Body()],
                            x_correlation_id: CorrelationId = None) -> JSONResponse:
        """Withdraw one role of a partner on an objective. Withdrawing a role it does not
        hold answers 200 with changed false, so a retried request succeeds."""
        try:
            outcome = await handlers.withdraw_role(request.app.state.runtime.pool, objective_id, partner_id,
                                                   command.role, correlation(x_correlation_id))
        except PartnersError as exc:
            return refused(exc)
        if outcome.created:
            log.info("objective role withdrawn", objective_id=objective_id, partner_id=partner_id,
                     role=command.role.value)
        return changed(outcome, {"objective_id": objective_id, "partner_id": partner_id,
                                  "role": command.role.value})

    @router.get("/objectives/{objective_id}/roles")
    async def list_roles(request: Request, objective_id: PathId) -> dict:
        """Every partner's roles on the objective, the lead (role LEAD) included."""
        async with request.app.state.runtime.pool.acquire() as conn:
            return {"objective_id": objective_id, "roles": await roles.of_objective(conn, objective_id)}

    @router.put("/contacts/{contact_id}/preferences")
    async def set_preferences(request: Request, contact_id: PathId,
                              command: Annotated[SetPreferences, Body()],
                              x_correlation_id: CorrelationId = None) -> JSONResponse:
        """How a contact wants to be told: channels, language, cadence and event kinds."""
        try:
            outcome = await handlers.set_preferences(request.app.state.runtime.pool, contact_id, command,
                                                     correlation(x_correlation_id))
        except PartnersError as exc:
            return refused(exc)
        if outcome.created:
            log.info("contact preferences changed", contact_id=contact_id)
        return changed(outcome, {"contact_id": contact_id, **asdict(outcome.value)})

    @router.get("/contacts/{contact_id}/preferences")
    async def get_preferences(request: Request, contact_id: PathId) -> dict:
        async with request.app.state.runtime.pool.acquire() as conn:
            prefs = await preferences.get(conn, contact_id)
        if prefs is None:
            raise HTTPException(404, detail=f"contact {contact_id!r} has no preferences")
        return {"contact_id": contact_id, **asdict(prefs)}

    return router
