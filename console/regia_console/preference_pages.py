"""The pages a person reaches from one of their e-mails, without logging in: the one-click
unsubscribe (RFC 8058) and their preferences page. The signed token in the URL is the
only credential; the console cannot read or make one, it passes it to the partners
service (which owns preferences and verifies it), in a header.

- `POST /unsubscribe/{token}` with the body `List-Unsubscribe=One-Click` (form-urlencoded
  or multipart/form-data, as RFC 8058 has mail clients send it) stops e-mails of the
  link's kinds. No cookie and no CSRF token is asked for: a mail provider's server sends
  it, and what it does can only turn e-mails off, once (again changes nothing).
- `GET /unsubscribe/{token}` only asks, with a button that sends that POST: mail scanners
  and link previews follow every link in a message, and must not unsubscribe anyone.
- `GET /preferences/{token}` shows each kind of alert's cadence as a form; `POST` saves
  it. The form carries a CSRF token that must match a SameSite=Strict cookie the page
  set (double submit), so another site cannot post it even with a stolen link's URL
  open in the reader's browser.

A link that is not Regia's or has aged out is a 403 or 410 page that says so, and changes
nothing. Pages are in the reader's choice of language, else their e-mails' language.
"""

import re
import secrets
from email import policy
from email.parser import BytesParser
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .auth import MAX_FORM_BYTES, BadForm, form_of
from .gateway import Gateway, LinkRefused, NotFound
from .rendering import here, language_for, render

# A token is base64url parts joined by dots (regia_shared.contracts.preference_links);
# anything else is refused here, before it could reach a header.
TOKEN = re.compile(r"^[A-Za-z0-9._-]{1,1000}$")
CSRF_COOKIE = "regia_prefs_csrf"
CSRF_PATH = "/preferences/"


def gateway_of(request: Request) -> Gateway:
    return request.app.state.gateway


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def problem(request: Request, status: int, title: str, detail: str = "link_hint") -> HTMLResponse:
    """A page that says, in the reader's language, what is wrong with the link (`title`
    and `detail` are labels); nothing was changed."""
    return render(
        request, "link_problem.html", status_code=status, session=None, public=True, title=title, detail=detail
    )


def refused(request: Request, exc: LinkRefused) -> HTMLResponse:
    if exc.status == 403:
        return problem(request, 403, "link_not_for_this")
    return problem(request, 410, "link_expired") if exc.expired else problem(request, 403, "link_invalid")


def gone(request: Request) -> HTMLResponse:
    return problem(request, 404, "link_invalid", "link_contact_gone")


async def one_click(request: Request) -> bool:
    """Whether the body is RFC 8058's `List-Unsubscribe=One-Click`."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return False
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        return "One-Click" in parse_qs(body.decode("utf-8", "replace")).get("List-Unsubscribe", [])
    if media == "multipart/form-data":
        head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
        message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        if not message.is_multipart():
            return False
        for part in message.iter_parts():
            value = part.get_payload(decode=True)
            named = part.get_param("name", header="content-disposition") == "List-Unsubscribe"
            if named and isinstance(value, bytes) and value.strip() == b"One-Click":
                return True
        return False
    return False


def preference_pages_router() -> APIRouter:
    router = APIRouter()

    @router.get("/unsubscribe/{token}")
    async def confirm_unsubscribe(request: Request, token: str) -> Response:
        if not TOKEN.match(token):
            return problem(request, 403, "link_invalid")
        try:
            own = await gateway_of(request).link("GET", "/v1/link/preferences", token, client=client_of(request))
        except LinkRefused as exc:
            return refused(request, exc)
        except NotFound:
            return gone(request)
        if own.get("purpose") != "unsubscribe":
            return problem(request, 403, "link_not_for_this")
        return _unsubscribe_page(request, own, done=False)

    @router.post("/unsubscribe/{token}")
    async def unsubscribe(request: Request, token: str) -> Response:
        if not TOKEN.match(token):
            return problem(request, 403, "link_invalid")
        if not await one_click(request):
            return problem(request, 400, "bad_request", "one_click_body")
        try:
            own = await gateway_of(request).link("POST", "/v1/link/unsubscribe", token, client=client_of(request))
        except LinkRefused as exc:
            return refused(request, exc)
        except NotFound:
            return gone(request)
        return _unsubscribe_page(request, own, done=True)

    @router.get("/preferences/{token}")
    async def preferences_page(request: Request, token: str, saved: bool = False) -> Response:
        if not TOKEN.match(token):
            return problem(request, 403, "link_invalid")
        try:
            own = await gateway_of(request).link("GET", "/v1/link/preferences", token, client=client_of(request))
        except LinkRefused as exc:
            return refused(request, exc)
        except NotFound:
            return gone(request)
        if own.get("purpose") != "preferences":
            return problem(request, 403, "link_not_for_this")
        csrf = request.cookies.get(CSRF_COOKIE) or ""
        if not TOKEN.match(csrf):
            csrf = secrets.token_urlsafe(32)
        response = render(
            request,
            "preferences.html",
            language=language_for(request, own.get("language")),
            session=None,
            public=True,
            own=own,
            csrf=csrf,
            saved=saved,
            action=here(request),
        )
        response.set_cookie(
            CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=request.url.scheme == "https", path=CSRF_PATH
        )
        return response

    @router.post("/preferences/{token}")
    async def save_preferences(request: Request, token: str) -> Response:
        if not TOKEN.match(token):
            return problem(request, 403, "link_invalid")
        form = await form_of(request)
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        if not cookie or not secrets.compare_digest(cookie, form.get("csrf") or ""):
            raise BadForm()
        body: dict[str, object] = {
            "kinds": {name.removeprefix("kind."): value for name, value in form.items() if name.startswith("kind.")}
        }
        if form.get("language"):
            body["language"] = form["language"]
        try:
            await gateway_of(request).link("PUT", "/v1/link/preferences", token, body=body, client=client_of(request))
        except LinkRefused as exc:
            return refused(request, exc)
        except NotFound:
            return gone(request)
        return RedirectResponse(f"{here(request)}?saved=1", status_code=303)

    return router


def _unsubscribe_page(request: Request, own: dict, *, done: bool) -> HTMLResponse:
    return render(
        request,
        "unsubscribe.html",
        language=language_for(request, own.get("language")),
        session=None,
        public=True,
        own=own,
        done=done,
        action=here(request),
    )
