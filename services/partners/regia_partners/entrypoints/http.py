"""The partners service's HTTP API. Every route needs the administrators' token: writes
change what every service knows about partners, and reads disclose people's addresses."""

import secrets
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter

from regia_shared.auth import require_admin
from regia_shared.errors import error_body
from regia_shared.events.partners import PartnerKind
from regia_shared.logs import bind_contextvars, get_logger

from .. import handlers
from ..adapters import contacts, leads, partners
from ..domain.commands import ID_PATTERN, AddContact, AssignLead, RegisterPartner
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
    return JSONResponse(body, status, headers={"Location": location})


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
    async def list_partners(request: Request, kind: PartnerKind | None = None) -> list[dict]:
        async with request.app.state.runtime.pool.acquire() as conn:
            return await partners.listing(conn, kind)

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

    return router
