"""The partners service's contacts: the people to tell at each partner. Admin token
required, like every partners route: contacts are people's addresses."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException
from fastapi.responses import JSONResponse

from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import Page, Paged, instant, text
from regia_shared.observability.logs import get_logger

from ..adapters import contacts, partners
from ..domain.commands import AddContact, EditContact
from ..service_layer import registration
from .models import AddedContact, ContactEdited, ContactErasure, ListedContact
from .responses import CorrelationId, PathId, answer, changed, correlation

log = get_logger(__name__)


def contacts_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["partners"], dependencies=[Depends(require_admin)])

    @router.get("/partners/{partner_id}/contacts", response_model=Page[ListedContact])
    async def list_contacts(pool: DatabasePool, page: Paged, partner_id: str) -> Page[dict]:
        """The partner's contacts, in the order they were added."""
        after = page.after("contacts", {"partner_id": partner_id}, (instant, text))
        async with pool.acquire() as conn:
            if await partners.get(conn, partner_id) is None:
                raise HTTPException(404, detail=f"no partner {partner_id!r}")
            found = await contacts.of_partner(conn, partner_id, after=after, limit=page.limit + 1)
        return page.of(found, key=lambda r: (r["added_at"].isoformat(), r["contact_id"]))

    @router.post(
        "/partners/{partner_id}/contacts",
        status_code=201,
        response_model=AddedContact,
        responses={200: {"model": AddedContact, "description": "The same person was there already"}},
    )
    async def add_contact(
        pool: DatabasePool,
        partner_id: PathId,
        command: Annotated[AddContact, Body()],
        x_correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """Add a person to tell. Without a contact_id one is chosen and the address
        identifies the person, so a retried request answers 200 with the same contact."""
        outcome = await registration.add_contact(pool, partner_id, command, correlation(x_correlation_id))
        if outcome.created:
            # The address is personal data: the log names the contact by id only.
            log.info("contact added", partner_id=partner_id, contact_id=outcome.value.contact_id)
        return answer(outcome, asdict(outcome.value), f"/v1/partners/{partner_id}#contact-{outcome.value.contact_id}")

    @router.patch("/contacts/{contact_id}", response_model=ContactEdited)
    async def edit_contact(
        pool: DatabasePool,
        contact_id: PathId,
        command: Annotated[EditContact, Body()],
        x_correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """Change a contact's name, e-mail or language (the fields given; the id and partner
        never change). The notifier's copy follows (ContactChanged). An erased contact
        answers 410 contact_erased; an address another contact of the partner has, 409."""
        outcome = await registration.edit_contact(pool, contact_id, command, correlation(x_correlation_id))
        if outcome.created:
            # The address is personal data: the log names the fields changed, not their values.
            log.info("contact changed", contact_id=contact_id, fields=sorted(command.model_fields_set))
        return changed(outcome, asdict(outcome.value))

    @router.post("/contacts/{contact_id}/erasure", response_model=ContactErasure)
    async def erase_contact(
        pool: DatabasePool, contact_id: PathId, x_correlation_id: CorrelationId = None
    ) -> JSONResponse:
        """Erase the contact's personal data on their request (GDPR art. 17): name and
        e-mail are removed here and, through ContactErased, from the notifier's copy and its
        records of what was sent to them; their preferences are removed; the id stays, so
        references hold, and they are never alerted again. Doing it again changes nothing."""
        outcome = await registration.erase_contact(pool, contact_id, correlation(x_correlation_id))
        if outcome.created:
            log.info("contact erased on request", contact_id=contact_id)
        erased = outcome.value
        body = {"contact_id": erased.contact_id, "partner_id": erased.partner_id, "erased_at": erased.erased_at}
        return changed(outcome, body)

    return router
