"""The partners service's roles on objectives: who leads each objective, and the other
roles partners hold on it. Admin token required, like every partners route."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException
from fastapi.responses import JSONResponse

from regia_shared.http.auth import STAFF
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import Page, Paged, text
from regia_shared.http.writes import ReasonedWrite
from regia_shared.observability.logs import get_logger

from ..adapters import known_objectives, leads, roles
from ..domain.commands import AssignLead, AssignRole
from ..service_layer import objective_roles
from .models import KnownObjective, Lead, LeadAssigned, RoleAssigned, RoleChanged, RoleHeld
from .responses import CorrelationId, PathId, answer, changed, correlation

log = get_logger(__name__)


def objective_roles_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["partners"], dependencies=[Depends(STAFF)])

    @router.get("/objectives/{objective_id}", response_model=KnownObjective)
    async def get_known_objective(pool: DatabasePool, objective_id: PathId) -> dict:
        """Whether this service knows the objective or plan node yet (it learns them from the
        objectives service's events, a moment after they are defined): 404
        objective_not_found until it does, when leads and roles on it are refused too."""
        async with pool.acquire() as conn:
            await objective_roles.known_objective(conn, objective_id)
            found = await known_objectives.get(conn, objective_id)
        assert found is not None  # known_objective refused otherwise
        return found

    @router.put("/objectives/{objective_id}/lead", response_model=LeadAssigned)
    async def assign_lead(
        pool: DatabasePool,
        objective_id: PathId,
        command: Annotated[AssignLead, Body()],
        write: ReasonedWrite,
        x_correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """Make a partner the lead of an objective (replacing any previous lead). 404
        objective_not_found for an objective this service does not know yet (retry)."""
        outcome = await objective_roles.assign_lead(pool, objective_id, command, correlation(x_correlation_id), write)
        if outcome.created:
            log.info("objective lead assigned", objective_id=objective_id, partner_id=command.partner_id)
        body = {
            "objective_id": objective_id,
            "partner_id": outcome.value,
            "changed": outcome.created,
            "event_id": str(outcome.event_id) if outcome.event_id else None,
        }
        return JSONResponse(body, 200, headers={"Location": f"/v1/objectives/{objective_id}/lead"})

    @router.get("/objectives/{objective_id}/lead")
    async def get_lead(pool: DatabasePool, objective_id: str) -> Lead:
        async with pool.acquire() as conn:
            partner_id = await leads.current(conn, objective_id)
        if partner_id is None:
            raise HTTPException(404, detail=f"objective {objective_id!r} has no lead")
        return Lead(objective_id=objective_id, partner_id=partner_id)

    @router.put(
        "/objectives/{objective_id}/roles/{partner_id}",
        status_code=201,
        response_model=RoleAssigned,
        responses={200: {"model": RoleAssigned, "description": "It held the role already"}},
    )
    async def assign_role(
        pool: DatabasePool,
        objective_id: PathId,
        partner_id: PathId,
        command: Annotated[AssignRole, Body()],
        write: ReasonedWrite,
        x_correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """Give a partner a role on an objective or action (it keeps its other roles).
        201 when assigned now, 200 when it already held it; 404 objective_not_found for an
        objective this service does not know yet (retry)."""
        outcome = await objective_roles.assign_role(
            pool, objective_id, partner_id, command.role, correlation(x_correlation_id), write
        )
        if outcome.created:
            log.info(
                "objective role assigned", objective_id=objective_id, partner_id=partner_id, role=command.role.value
            )
        body = {"objective_id": objective_id, "partner_id": partner_id, "role": command.role.value}
        return answer(outcome, body, f"/v1/objectives/{objective_id}/roles")

    @router.delete("/objectives/{objective_id}/roles/{partner_id}", response_model=RoleChanged)
    async def withdraw_role(
        pool: DatabasePool,
        objective_id: PathId,
        partner_id: PathId,
        command: Annotated[AssignRole, Body()],
        write: ReasonedWrite,
        x_correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """Withdraw one role of a partner on an objective. Withdrawing a role it does not
        hold answers 200 with changed false, so a retried request succeeds."""
        outcome = await objective_roles.withdraw_role(
            pool, objective_id, partner_id, command.role, correlation(x_correlation_id), write
        )
        if outcome.created:
            log.info(
                "objective role withdrawn", objective_id=objective_id, partner_id=partner_id, role=command.role.value
            )
        return changed(outcome, {"objective_id": objective_id, "partner_id": partner_id, "role": command.role.value})

    @router.get("/objectives/{objective_id}/roles", response_model=Page[RoleHeld])
    async def list_roles(pool: DatabasePool, page: Paged, objective_id: PathId) -> Page[dict]:
        """Every partner's roles on the objective, the lead (role LEAD) included, by role
        then partner."""
        after = page.after("roles", {"objective_id": objective_id}, (text, text))
        async with pool.acquire() as conn:
            found = await roles.of_objective(conn, objective_id, after=after, limit=page.limit + 1)
        return page.of(found, key=lambda r: (r["role"], r["partner_id"]))

    return router
