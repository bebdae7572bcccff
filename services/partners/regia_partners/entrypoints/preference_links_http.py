"""A contact's own e-mail preferences, reached through a link of one of their e-mails:
no administrator's token, but the link's signed token, sent as `Authorization: Bearer`.

The console serves the pages people see (the one-click unsubscribe of RFC 8058 and the
preferences page) and calls these routes with the token taken from the page's URL. The
token travels in a header, never in a path here, so the audit trail (which keeps every
write's path) never holds one; the audit row names the contact (`contact:<id>`).
A token that does not verify is an anonymous refusal like any other, throttled per address.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from regia_shared.contracts.alert_kinds import ALERT_KINDS, KIND_CADENCES
from regia_shared.contracts.preference_links import ExpiredLink, InvalidLink, PreferenceLink, verify
from regia_shared.http.audit import set_actor
from regia_shared.http.auth import PreferenceLinkScheme, bearer_token
from regia_shared.http.dependencies import DatabasePool
from regia_shared.observability.logs import bind_contextvars, get_logger

from ..config import PartnersSettings
from ..domain.commands import ChooseOwnPreferences
from ..domain.errors import LinkExpired, LinkRefused
from ..service_layer import own_preferences
from ..service_layer.outcome import Outcome
from ..service_layer.own_preferences import OwnPreferences
from .models import OwnPreferences as OwnPreferencesAnswer
from .models import OwnPreferencesChanged
from .responses import CorrelationId, correlation

log = get_logger(__name__)


async def verified_link(request: Request, _: PreferenceLinkScheme) -> PreferenceLink:
    """The link whose token the request carries, verified; its contact is then the actor."""
    token = bearer_token(request)  # 401 without one, before anything else is said
    settings: PartnersSettings = request.app.state.settings
    keys = settings.preference_link_keys
    if not keys:
        raise HTTPException(
            503, detail="links of e-mails cannot be checked: set REGIA_PREFERENCE_LINK_KEY (the notifier's value)"
        )
    try:
        link = verify(token, keys, today=datetime.now(UTC).date(), max_age_days=settings.preference_link_max_age_days)
    except ExpiredLink as exc:
        raise LinkExpired(str(exc)) from None
    except InvalidLink as exc:
        raise LinkRefused(str(exc)) from None
    set_actor(request, f"contact:{link.contact_id}")
    bind_contextvars(contact_id=link.contact_id)
    return link


Link = Annotated[PreferenceLink, Depends(verified_link)]


def own_body(own: OwnPreferences) -> dict:
    """What the console shows: whose preferences, what the link allows, and each kind's
    e-mail cadence in the order of the list of kinds."""
    link_kinds = ALERT_KINDS if own.link.kinds is None else [k for k in ALERT_KINDS if k in own.link.kinds]
    return {
        "contact_id": own.contact.contact_id,
        "name": own.contact.name,
        "language": own.preferences.language,
        "purpose": own.link.purpose,
        "link_kinds": list(link_kinds),
        "kinds": [{"kind": k, "cadence": c} for k, c in own.preferences.email_cadences().items()],
        "cadences": list(KIND_CADENCES),
    }


def _changed(outcome: Outcome[OwnPreferences]) -> JSONResponse:
    body = {
        **own_body(outcome.value),
        "changed": outcome.created,
        "event_id": str(outcome.event_id) if outcome.event_id else None,
    }
    return JSONResponse(jsonable_encoder(body), 200)


def preference_links_router() -> APIRouter:
    router = APIRouter(prefix="/v1/link", tags=["preference links"])

    @router.get("/preferences", response_model=OwnPreferencesAnswer)
    async def read_own_preferences(pool: DatabasePool, link: Link) -> dict:
        """The link's contact's e-mail cadence for each kind of alert (either kind of link)."""
        return own_body(await own_preferences.read(pool, link))

    @router.put("/preferences", response_model=OwnPreferencesChanged)
    async def choose_own_preferences(
        pool: DatabasePool,
        link: Link,
        command: Annotated[ChooseOwnPreferences, Body()],
        x_correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """The contact's choice on their preferences page (a `preferences` link): the
        cadence of the kinds named, and the language of their e-mails if given."""
        outcome = await own_preferences.choose(pool, link, command, correlation(x_correlation_id))
        if outcome.created:
            log.info("contact preferences changed", reason=own_preferences.PREFERENCES_PAGE)
        return _changed(outcome)

    @router.post("/unsubscribe", response_model=OwnPreferencesChanged)
    async def unsubscribe(pool: DatabasePool, link: Link, x_correlation_id: CorrelationId = None) -> JSONResponse:
        """One-click unsubscribe (an `unsubscribe` link): no more e-mail of the link's
        kinds. Doing it again changes nothing."""
        outcome = await own_preferences.unsubscribe(pool, link, correlation(x_correlation_id))
        if outcome.created:
            log.info("contact preferences changed", reason=own_preferences.ONE_CLICK, kinds=list(link.kinds or ["all"]))
        return _changed(outcome)

    return router
