"""The partners service's contact preferences: how each contact wants to be told
(channels, language, cadence, event kinds, and each kind's own e-mail cadence).
Administrators set anyone's; a person logged in sets their own (their account's contact,
e.g. a project lead choosing their alerts); a contact without an account uses the link of
an e-mail (preference_links_http)."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException
from fastapi.responses import JSONResponse

from regia_shared.http.auth import PEOPLE, Principal
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.identity import Role
from regia_shared.observability.logs import get_logger

from ..adapters import preferences
from ..domain.commands import SetPreferences
from ..domain.relations import Preferences
from ..service_layer import registration
from .models import ContactPreferences, PreferencesChanged
from .responses import CorrelationId, PathId, changed, correlation

log = get_logger(__name__)


Keeper = Annotated[Principal, Depends(PEOPLE)]


def own_contact(principal: Principal, contact_id: str) -> None:
    if principal.role is not Role.ADMINISTRATOR and principal.contact_id != contact_id:
        raise HTTPException(403, detail="you may change your own alert preferences only (your account's contact)")


def preferences_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["partners"])

    @router.put("/contacts/{contact_id}/preferences", response_model=PreferencesChanged)
    async def set_preferences(
        pool: DatabasePool,
        keeper: Keeper,
        contact_id: PathId,
        command: Annotated[SetPreferences, Body()],
        x_correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """How a contact wants to be told: channels, language, cadence, event kinds and
        each kind's own e-mail cadence (`kinds`; `off`: no e-mail of it). Replaces what was set."""
        own_contact(keeper, contact_id)
        outcome = await registration.set_preferences(pool, contact_id, command, correlation(x_correlation_id))
        if outcome.created:
            log.info("contact preferences changed", contact_id=contact_id)
        return changed(outcome, preferences_body(contact_id, outcome.value))

    @router.get("/contacts/{contact_id}/preferences", response_model=ContactPreferences)
    async def get_preferences(pool: DatabasePool, keeper: Keeper, contact_id: PathId) -> dict:
        own_contact(keeper, contact_id)
        async with pool.acquire() as conn:
            prefs = await preferences.get(conn, contact_id)
        if prefs is None:
            raise HTTPException(404, detail=f"contact {contact_id!r} has no preferences")
        return preferences_body(contact_id, prefs)

    return router


def preferences_body(contact_id: str, prefs: Preferences) -> dict:
    return {
        "contact_id": contact_id,
        "channels": list(prefs.channels),
        "language": prefs.language,
        "cadence": prefs.cadence,
        "event_kinds": list(prefs.event_kinds),
        "kinds": dict(prefs.kinds),
    }
