"""The partners service's contact preferences: how each contact wants to be told
(channels, language, cadence, event kinds). Admin token required, like every partners
route."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException
from fastapi.responses import JSONResponse

from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool
from regia_shared.observability.logs import get_logger

from ..adapters import preferences
from ..domain.commands import SetPreferences
from ..service_layer import registration
from .responses import CorrelationId, PathId, changed, correlation

log = get_logger(__name__)


def preferences_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["partners"], dependencies=[Depends(require_admin)])

    @router.put("/contacts/{contact_id}/preferences")
    async def set_preferences(
        pool: DatabasePool,
        contact_id: PathId,
        command: Annotated[SetPreferences, Body()],
        x_correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """How a contact wants to be told: channels, language, cadence and event kinds."""
        outcome = await registration.set_preferences(pool, contact_id, command, correlation(x_correlation_id))
        if outcome.created:
            log.info("contact preferences changed", contact_id=contact_id)
        return changed(outcome, {"contact_id": contact_id, **asdict(outcome.value)})

    @router.get("/contacts/{contact_id}/preferences")
    async def get_preferences(pool: DatabasePool, contact_id: PathId) -> dict:
        async with pool.acquire() as conn:
            prefs = await preferences.get(conn, contact_id)
        if prefs is None:
            raise HTTPException(404, detail=f"contact {contact_id!r} has no preferences")
        return {"contact_id": contact_id, **asdict(prefs)}

    return router
