"""The pages of people and their own things:

- `/accounts` (administrators): every account with its role, scope and state; a form that
  makes one with its role; an unlock button for an account failed logins locked.
- `/institution` (an institution officer: theirs) and `/institutions/{id}` (administrators
  and observers: any; an officer: only theirs): the institution's lines, its API keys (a
  new one shown once, an old one revoked: how an officer rotates them), its ledger as CSV,
  and the messages of it Regia rejected that the console saw.
- `/my-alerts` (anyone whose account names a contact): that contact's alert preferences.

Every call carries the person's token: the services decide, the console only does not
offer what the role cannot do.
"""

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from regia_shared.contracts import topics
from regia_shared.http.identity import Role

from .auth import Admin, InstitutionReader, OwnAlerts, checked_form
from .gateway import Forbidden, Gateway, NotFound, Refused, Unavailable, listed, or_none, path
from .i18n import TRIGGERS
from .rendering import render
from .roles import OFFICER, may_write
from .sessions import Session

ACCOUNTS_PAGE = 200
LINES_SHOWN = 50
ROLES = tuple(r.value for r in Role)
CADENCES = ("immediate", "daily_digest", "weekly_digest", "off")


def gateway_of(request: Request) -> Gateway:
    return request.app.state.gateway


def account_pages_router() -> APIRouter:
    router = APIRouter()

    @router.get("/accounts")
    async def accounts_page(request: Request, session: Admin, created: str | None = None, unlocked: str | None = None):
        found = await or_none(gateway_of(request).get("partners", "/v1/accounts", session.token, limit=ACCOUNTS_PAGE))
        rows, more = listed(found)
        return render(
            request,
            "accounts.html",
            session=session,
            rows=rows,
            more=bool(more),
            roles=ROLES,
            created=created,
            unlocked=unlocked,
        )

    @router.post("/accounts")
    async def create_account(request: Request, session: Admin):
        form = await checked_form(request, session)
        body: dict[str, str] = {k: form[k].strip() for k in ("account_id", "name", "role") if form.get(k, "").strip()}
        for optional in ("email", "institution_id", "partner_id", "contact_id", "oidc_subject"):
            if form.get(optional, "").strip():
                body[optional] = form[optional].strip()
        if form.get("password"):
            body["password"] = form["password"]
        reason = form.get("reason", "").strip() or None
        await gateway_of(request).post("partners", "/v1/accounts", session.token, body, reason=reason)
        return RedirectResponse(f"/accounts?created={body.get('account_id', '')}", status_code=303)

    @router.post("/accounts/{account_id}/unlock")
    async def unlock(request: Request, session: Admin, account_id: str):
        await checked_form(request, session)
        await gateway_of(request).post("partners", path("/v1/accounts/{}/unlock", account_id), session.token, {})
        return RedirectResponse(f"/accounts?unlocked={account_id}", status_code=303)

    @router.get("/institution")
    async def own_institution(request: Request, session: InstitutionReader):
        if session.role is not OFFICER or not session.account.institution_id:
            raise Forbidden("only an institution officer has an institution of their own")
        return await institution_page(request, session, session.account.institution_id, None)

    @router.get("/institutions/{institution_id}")
    async def any_institution(request: Request, session: InstitutionReader, institution_id: str):
        return await institution_page(request, session, institution_id, None)

    async def institution_page(
        request: Request, session: Session, institution_id: str, new_key: dict | None
    ) -> Response:
        own_only(session, institution_id)
        gateway, token = gateway_of(request), session.token
        # The lines changed last first: what an officer comes to check is what just moved.
        lines = await or_none(
            gateway.get(
                "funding",
                "/v1/funding-lines",
                token,
                institution_id=institution_id,
                limit=LINES_SHOWN,
                sort="-updated",
            )
        )
        keys = await or_none(gateway.get("funding", path("/v1/institutions/{}/keys", institution_id), token))
        feed = request.app.state.feed
        rejections = [
            e
            for e in reversed(feed.recent)
            if e.get("topic") == topics.FUNDING_INBOUND_REJECTED
            and (e.get("facts") or {}).get("institution_id") == institution_id
        ]
        return render(
            request,
            "institution.html",
            session=session,
            institution_id=institution_id,
            lines=listed(lines)[0],
            keys=[k for k in keys if isinstance(k, dict) and not k.get("revoked_at")]
            if isinstance(keys, list)
            else None,
            new_key=new_key,
            rejections=rejections,
            may_rotate=session.role is OFFICER or may_write(session.role),
        )

    @router.post("/institutions/{institution_id}/keys")
    async def new_key(request: Request, session: InstitutionReader, institution_id: str):
        await checked_form(request, session)
        own_only(session, institution_id, writing=True)
        issued = await gateway_of(request).post(
            "funding", path("/v1/institutions/{}/keys", institution_id), session.token, {"label": "console"}
        )
        # Shown on this answer only (never put in a URL or kept): the officer copies it now.
        return await institution_page(request, session, institution_id, issued if isinstance(issued, dict) else None)

    @router.post("/institutions/{institution_id}/keys/{key_id}/revoke")
    async def revoke_key(request: Request, session: InstitutionReader, institution_id: str, key_id: str):
        await checked_form(request, session)
        own_only(session, institution_id, writing=True)
        await gateway_of(request).delete("funding", path("/v1/keys/{}", key_id), session.token)
        return RedirectResponse(f"/institutions/{path('{}', institution_id)}", status_code=303)

    @router.get("/institutions/{institution_id}/ledger.csv")
    async def ledger_csv(request: Request, session: InstitutionReader, institution_id: str):
        """The funding service's ledger export of the institution, streamed through."""
        own_only(session, institution_id)
        gateway = gateway_of(request)
        url = gateway.urls["funding"] + "/v1/ledger/export"
        upstream = gateway.http.build_request(
            "GET",
            url,
            params={"format": "csv", "institution_id": institution_id},
            headers={"Authorization": f"Bearer {session.token}"},
        )
        try:
            answer = await gateway.http.send(upstream, stream=True)
        except httpx.HTTPError as exc:
            raise Unavailable(f"funding: {type(exc).__name__}") from None
        if answer.status_code != 200:
            await answer.aclose()
            if answer.status_code == 403:
                raise Forbidden("funding refused the export to this role")
            if answer.status_code == 404:
                raise NotFound(institution_id)
            raise Unavailable(f"funding answered {answer.status_code} to the ledger export")

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in answer.aiter_bytes():
                    yield chunk
            finally:
                await answer.aclose()

        filename = f"ledger-{institution_id}.csv".replace('"', "")
        return StreamingResponse(
            body(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @router.get("/my-alerts")
    async def my_alerts(request: Request, session: OwnAlerts, saved: Annotated[bool, Query()] = False):
        contact_id = session.account.contact_id
        found = None
        if contact_id:
            found = await or_none(
                gateway_of(request).get("partners", path("/v1/contacts/{}/preferences", contact_id), session.token)
            )
        return render(
            request,
            "my_alerts.html",
            session=session,
            contact_id=contact_id,
            preferences=found if isinstance(found, dict) else None,
            cadences=CADENCES,
            kinds=TRIGGERS,
            saved=saved,
        )

    @router.post("/my-alerts")
    async def save_my_alerts(request: Request, session: OwnAlerts):
        form = await checked_form(request, session)
        contact_id = session.account.contact_id
        if not contact_id:
            raise Refused("your account is not linked to a contact")
        one = path("/v1/contacts/{}/preferences", contact_id)
        current = await gateway_of(request).get("partners", one, session.token)
        if not isinstance(current, dict):
            raise Unavailable("partners answered the preferences with something that is not them")
        # The service replaces the whole choice: what the page does not show is sent back as it was.
        kinds = dict(current.get("kinds") or {})
        kinds |= {name.removeprefix("kind."): value for name, value in form.items() if name.startswith("kind.")}
        body = {k: current[k] for k in ("channels", "language", "cadence", "event_kinds") if k in current}
        await gateway_of(request).put("partners", one, session.token, body | {"kinds": kinds})
        return RedirectResponse("/my-alerts?saved=true", status_code=303)

    return router


def own_only(session: Session, institution_id: str, *, writing: bool = False) -> None:
    """An officer sees and changes only their own institution; observers change nothing."""
    if session.role is OFFICER and session.account.institution_id != institution_id:
        raise Forbidden("an institution officer sees their own institution only")
    if writing and session.role is not OFFICER and not may_write(session.role):
        raise Forbidden("observers change nothing")
