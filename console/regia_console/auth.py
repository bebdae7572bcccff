"""Logging in and out, and the dependency every page but /login and /static depends on."""

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from .rendering import here, render
from .sessions import COOKIE, Session, Sessions, csrf_ok

MAX_FORM_BYTES = 16 * 1024


class LoginRequired(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


class BadForm(Exception):
    """A write without this session's CSRF token: refused, whatever else it carries."""


def sessions_of(request: Request) -> Sessions:
    return request.app.state.sessions


def admin(request: Request) -> Session:
    session = sessions_of(request).get(request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired(here(request))
    return session


Admin = Annotated[Session, Depends(admin)]


async def form_of(request: Request) -> dict[str, str]:
    """A urlencoded form, parsed here (no python-multipart needed for four fields)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise BadForm()
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


async def checked_form(request: Request, session: Session) -> dict[str, str]:
    form = await form_of(request)
    if not csrf_ok(session, form.get("csrf")):
        raise BadForm()
    return form


def safe_next(path: str | None) -> str:
    """Only a path of this console: a login link must not send anyone elsewhere."""
    return path if path and path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


def auth_router() -> APIRouter:
    router = APIRouter()

    @router.get("/login")
    async def login_page(request: Request, next: str = "/"):  # noqa: A002 (the query's name)
        return render(request, "login.html", next=safe_next(next), refused=False)

    @router.post("/login")
    async def log_in(request: Request):
        form = await form_of(request)
        session_id = sessions_of(request).log_in(form.get("token", ""))
        if session_id is None:
            return render(request, "login.html", status_code=401, next=safe_next(form.get("next")), refused=True)
        response = RedirectResponse(safe_next(form.get("next")), status_code=303)
        response.set_cookie(
            COOKIE, session_id, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/"
        )
        return response

    @router.post("/logout")
    async def log_out(request: Request, session: Admin):
        await checked_form(request, session)
        sessions_of(request).log_out(request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    return router
