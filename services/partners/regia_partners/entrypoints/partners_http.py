"""The partners service's partners: registering them and finding them. Every partners
route needs the administrators' token: writes change what every service knows about
partners, and reads disclose people's addresses."""

from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter

from regia_shared.contracts.events.partners import ObjectiveRole, PartnerKind
from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import Page, Paged, text
from regia_shared.observability.logs import get_logger

from ..adapters import contacts, leads, partners
from ..domain.commands import EditPartner, RegisterPartner
from ..service_layer import registration
from .models import ListedPartner, PartnerDetails, PartnerEdited, RegisteredPartner
from .responses import (
    CorrelationId,
    OnDay,
    PathId,
    QueryId,
    SearchText,
    TerritoryText,
    answer,
    changed,
    correlation,
    search_text,
)

log = get_logger(__name__)


def partners_router(registry: CollectorRegistry) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["partners"], dependencies=[Depends(require_admin)])
    registered = Counter("regia_partners_registered_total", "Partners registered", ["kind"], registry=registry)

    @router.post(
        "/partners",
        status_code=201,
        response_model=RegisteredPartner,
        responses={200: {"model": RegisteredPartner, "description": "Registered already: nothing changed"}},
    )
    async def register_partner(
        pool: DatabasePool, command: Annotated[RegisterPartner, Body()], x_correlation_id: CorrelationId = None
    ) -> JSONResponse:
        """Register a partner. The same request again answers 200 and publishes nothing."""
        outcome = await registration.register_partner(pool, command, correlation(x_correlation_id))
        if outcome.created:
            registered.labels(command.kind.value).inc()
            log.info("partner registered", partner_id=command.partner_id, kind=command.kind.value)
        body = {**asdict(outcome.value), "kind": outcome.value.kind.value}
        return answer(outcome, body, f"/v1/partners/{command.partner_id}")

    @router.patch("/partners/{partner_id}", response_model=PartnerEdited)
    async def edit_partner(
        pool: DatabasePool,
        partner_id: PathId,
        command: Annotated[EditPartner, Body()],
        x_correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """Change a partner's name or territory (`territory: null` clears it). The id, kind
        and level never change. Every service's copy follows (PartnerChanged); the same
        values again answer changed false and publish nothing."""
        outcome = await registration.edit_partner(pool, partner_id, command, correlation(x_correlation_id))
        if outcome.created:
            log.info("partner changed", partner_id=partner_id, fields=sorted(command.model_fields_set))
        return changed(outcome, {**asdict(outcome.value), "kind": outcome.value.kind.value})

    @router.get("/partners", response_model=Page[ListedPartner])
    async def list_partners(
        pool: DatabasePool,
        page: Paged,
        q: SearchText = None,
        kind: PartnerKind | None = None,
        level: GovernmentLevel | None = None,
        objective_id: QueryId = None,
        role: ObjectiveRole | None = None,
        network_id: QueryId = None,
        territory: TerritoryText = None,
        on: OnDay = None,
    ) -> Page[dict]:
        """Partners by name, then id. q matches anywhere in the name, case-insensitively and
        literally (% and _ are not wildcards); objective_id and role: partners holding a role
        on an objective (LEAD included), either alone meaning any; network_id: its members
        on `on` (today when not given); territory: the whole territory, case-insensitively."""
        search = partners.Search(
            q=search_text(q),
            kind=kind,
            level=level,
            objective_id=objective_id,
            role=role,
            network_id=network_id,
            territory=search_text(territory),
            on=on or date.today(),
        )
        filters = {
            "q": search.q,
            "kind": kind,
            "level": level,
            "objective_id": objective_id,
            "role": role,
            "network_id": network_id,
            "territory": search.territory,
            "on": on,
        }
        after = page.after("partners", filters, (text, text, text))
        async with pool.acquire() as conn:
            found = await partners.search(conn, search, after=after, limit=page.limit + 1)
        return page.of(found, key=lambda r: (r["name_key"], r["name"], r["partner_id"]))

    @router.get("/partners/{partner_id}", response_model=PartnerDetails)
    async def get_partner(pool: DatabasePool, partner_id: str) -> dict:
        """A partner with its contacts and the objectives it leads."""
        async with pool.acquire() as conn:
            partner = await partners.details(conn, partner_id)
            if partner is None:
                raise HTTPException(404, detail=f"no partner {partner_id!r}")
            partner["contacts"] = await contacts.of_partner(conn, partner_id)
            partner["objectives_led"] = await leads.led_by(conn, partner_id)
        return partner

    return router
