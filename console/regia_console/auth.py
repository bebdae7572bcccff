"""Logging in and out with people's accounts, and the dependencies every page but /login
and /static depends on.

A person logs in with their login and password (then the 6-digit code, when their account
has a second factor) or, when configured, with the OpenID Connect provider. The console
asks the partners service (`POST /v1/sessions`, `/v1/sessions/oidc`), keeps the access and
refresh tokens it answers in the server-side session (sessions.py) and calls every service
with the access token, so each service enforces what the person's role may do.

Failed logins are throttled here too, per client address (`LoginThrottle`): past a small
burst the console answers 429 with Retry-After without asking partners, and partners
throttles and locks accounts on its side (it sees the person's address in
X-Forwarded-For when it lists the console in REGIA_TRUSTED_PROXIES).

The admin token does not log anyone in here: it is for machines (the CLI, deployment
jobs) and for making the first administrator's account (docs/operations.md).
"""

import math
import re
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from regia_shared.http.identity import Role
from regia_shared.http.ratelimit import TokenBuckets
from regia_shared.observability.logs import get_logger

from .gateway import Forbidden, Gateway, NotFound, Unavailable
from .oidc import OidcClient, OidcFailed
from .rendering import here, render
from .roles import ADMINS, EVERYONE, INSTITUTION_PAGE, OBJECTIVE_READERS, OWN_ALERTS, STAFF, home_of
from .sessions import COOKIE, OIDC_COOKIE, PENDING_COOKIE, Session, Sessions, csrf_ok

MAX_FORM_BYTES = 16 * 1024
CODE = re.compile(r"^[0-9]{6}$")
log = get_logger(__name__)


class LoginRequired(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


class BadForm(Exception):
    """A write without this session's CSRF token: refused, whatever else it carries."""


class LoginThrottle:
    """Failed logins per client address: `burst` at once, then one per `1/rate_per_s`
    seconds. Each failure takes a token; a failure that finds the bucket empty blocks the
    address until a token is back, and while blocked no attempt reaches partners."""

    def __init__(self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets = TokenBuckets(rate_per_s, burst, clock=clock)
        self._blocked: dict[str, float] = {}
        self._clock = clock

    def wait_s(self, address: str) -> int:
        """Seconds this address must still wait; 0 when it may try."""
        until = self._blocked.get(address)
        if until is None:
            return 0
        left = until - self._clock()
        if left <= 0:
            del self._blocked[address]
            return 0
        return max(1, math.ceil(left))

    def failed(self, address: str) -> int:
        """Count a failure; the seconds to wait when this one was one too many, else 0."""
        decision = self._buckets.take(address)
        if decision.allowed:
            return 0
        if len(self._blocked) > 100_000:  # a flood of addresses: forget those whose wait is over
            now = self._clock()
            self._blocked = {a: u for a, u in self._blocked.items() if u > now}
        self._blocked[address] = self._clock() + decision.retry_after_s
        return decision.retry_after_s


def sessions_of(request: Request) -> Sessions:
    return request.app.state.sessions


def gateway_of(request: Request) -> Gateway:
    return request.app.state.gateway


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def fresh(request: Request, session: Session) -> None:
    """Refresh the session's access token when it is about to expire. One refresh at a
    time per session: a second request waits and then finds the token fresh. Partners
    refusing (the session ended there) ends it here; partners not answering is tolerated
    while the current token is still good."""
    if not session.needs_refresh():
        return
    async with session.lock:
        if not session.needs_refresh():
            return
        try:
            answer = await gateway_of(request).sessions(
                "POST", "/v1/sessions/refresh", body={"refresh_token": session.refresh_token}, client=client_of(request)
            )
        except Unavailable:
            if session.token_expired():
                raise
            return
        if answer.status_code == 200:
            session.take(answer.json())
            return
        if answer.status_code >= 500 and not session.token_expired():
            return
        log.info("session refresh refused: logged out", status=answer.status_code)
        sessions_of(request).log_out(request.cookies.get(COOKIE))
        raise LoginRequired(here(request))


async def person(request: Request) -> Session:
    """The logged-in person's session, its access token fresh; otherwise to the login page."""
    session = sessions_of(request).get(request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired(here(request))
    await fresh(request, session)
    return session


def allowed(roles: frozenset[Role]) -> Callable[[Request], Coroutine[Any, Any, Session]]:
    """A page's dependency: the person, when their role may open it; else a 403 page."""

    async def check(request: Request) -> Session:
        session = await person(request)
        if session.role not in roles:
            raise Forbidden(f"role {session.role.value}")
        return session

    return check


Anyone = Annotated[Session, Depends(allowed(EVERYONE))]
Staff = Annotated[Session, Depends(allowed(STAFF))]
Admin = Annotated[Session, Depends(allowed(ADMINS))]
ObjectiveReader = Annotated[Session, Depends(allowed(OBJECTIVE_READERS))]
InstitutionReader = Annotated[Session, Depends(allowed(INSTITUTION_PAGE))]
OwnAlerts = Annotated[Session, Depends(allowed(OWN_ALERTS))]


async def form_of(request: Request) -> dict[str, str]:
    """A urlencoded form, parsed here (no python-multipart needed for a few fields)."""
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


def _cookie(response: Response, request: Request, name: str, value: str, *, path: str = "/", lax: bool = False) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax" if lax else "strict",
        secure=request.url.scheme == "https",
        path=path,
    )


def _error_of(answer: httpx.Response) -> tuple[str, str]:
    try:
        body = answer.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("field") or "")


def _retry_after(answer: httpx.Response) -> int:
    try:
        return max(1, int(answer.headers.get("retry-after", "60")))
    except ValueError:
        return 60


def auth_router() -> APIRouter:
    router = APIRouter()

    def login_page(
        request: Request, status: int = 200, *, next_path: str = "/", problem: str | None = None, login: str = ""
    ) -> HTMLResponse:
        return render(
            request,
            "login.html",
            status_code=status,
            next=next_path,
            problem=problem,
            oidc=request.app.state.oidc is not None,
            login=login,
        )

    def throttled(request: Request, wait_s: int, *, locked: bool = False) -> HTMLResponse:
        response = render(
            request,
            "login_wait.html",
            status_code=429,
            minutes=max(1, math.ceil(wait_s / 60)),
            locked=locked,
        )
        response.headers["Retry-After"] = str(wait_s)
        return response

    def logged_in(request: Request, answer: dict, next_path: str, *, via_redirect: bool = False) -> Response:
        session_id = sessions_of(request).open(answer)
        role = Role(answer["account"]["role"])
        target = next_path if next_path != "/" else home_of(role)
        if via_redirect:
            # Back from the identity provider, the browser is in a cross-site redirect chain
            # and would not send a SameSite=Strict cookie on a redirect: a page of ours that
            # moves on by itself makes the next request same-site.
            response: Response = render(request, "login_continue.html", next=target)
        else:
            response = RedirectResponse(target, status_code=303)
        _cookie(response, request, COOKIE, session_id)
        response.delete_cookie(PENDING_COOKIE, path="/login")
        return response

    @router.get("/login")
    async def login_form(request: Request, next: str = "/"):  # noqa: A002 (the query's name)
        return login_page(request, next_path=safe_next(next))

    async def attempt(request: Request, login: str, password: str, code: str | None, next_path: str) -> Response:
        """One try at partners' POST /v1/sessions, and the page for its answer."""
        address = client_of(request)
        throttle: LoginThrottle = request.app.state.login_throttle
        wait = throttle.wait_s(address)
        if wait:
            return throttled(request, wait)
        body: dict[str, str] = {"login": login, "password": password} | ({"totp": code} if code else {})
        answer = await gateway_of(request).sessions("POST", "/v1/sessions", body=body, client=address)
        if answer.status_code == 201:
            sessions_of(request).drop_pending(request.cookies.get(PENDING_COOKIE))
            return logged_in(request, answer.json(), next_path)
        error, field = _error_of(answer)
        if answer.status_code == 401 and error == "totp_required":
            pending_id = sessions_of(request).wait_for_code(login, password, next_path)
            response = render(request, "login_code.html", problem=None)
            _cookie(response, request, PENDING_COOKIE, pending_id, path="/login")
            return response
        if answer.status_code == 429:  # the account is locked, or partners throttles this address
            sessions_of(request).drop_pending(request.cookies.get(PENDING_COOKIE))
            return throttled(request, _retry_after(answer), locked=error == "login_locked")
        if answer.status_code in (401, 422):  # wrong login, password or code; or not even well-formed
            wait = throttle.failed(address)
            if wait:
                return throttled(request, wait)
            if code is not None and field == "totp":
                return render(request, "login_code.html", status_code=401, problem="login_wrong_code")
            sessions_of(request).drop_pending(request.cookies.get(PENDING_COOKIE))
            return login_page(request, 401, next_path=next_path, problem="login_refused", login=login)
        raise Unavailable(f"partners answered {answer.status_code} to a login")

    @router.post("/login")
    async def log_in(request: Request):
        form = await form_of(request)
        login, password = form.get("login", "").strip(), form.get("password", "")
        next_path = safe_next(form.get("next"))
        if not login or not password:
            return login_page(request, 401, next_path=next_path, problem="login_refused", login=login)
        return await attempt(request, login, password, None, next_path)

    @router.post("/login/code")
    async def log_in_with_code(request: Request):
        form = await form_of(request)
        pending = sessions_of(request).pending(request.cookies.get(PENDING_COOKIE))
        if pending is None:  # too late, or no password was given first
            return login_page(request, 401, problem="login_code_expired")
        code = form.get("code", "").strip().replace(" ", "")
        if not CODE.match(code):
            return render(request, "login_code.html", status_code=401, problem="login_wrong_code")
        return await attempt(request, pending.login, pending.password, code, pending.next)

    @router.get("/login/oidc")
    async def oidc_begin(request: Request, next: str = "/"):  # noqa: A002
        client: OidcClient | None = request.app.state.oidc
        if client is None:
            raise NotFound("no identity provider is configured")
        try:
            url, pending = await client.begin(redirect_uri(request), safe_next(next))
        except OidcFailed as exc:
            log.warning("OIDC login could not start", why=str(exc))
            return login_page(request, 503, next_path=safe_next(next), problem="login_oidc_failed")
        flow_id = sessions_of(request).begin_oidc(pending)
        response = RedirectResponse(url, status_code=303)
        # Lax, not Strict: the provider's redirect back is a cross-site navigation, and the
        # cookie is what ties the callback to the browser that began the flow.
        _cookie(response, request, OIDC_COOKIE, flow_id, path="/login/oidc", lax=True)
        return response

    @router.get("/login/oidc/callback")
    async def oidc_callback(request: Request):
        client: OidcClient | None = request.app.state.oidc
        if client is None:
            raise NotFound("no identity provider is configured")
        pending = sessions_of(request).take_oidc(request.cookies.get(OIDC_COOKIE))
        if pending is None or not secrets.compare_digest(pending.state, request.query_params.get("state", "")):
            return login_page(request, 400, problem="login_oidc_stale")
        if request.query_params.get("error"):
            log.info("OIDC provider refused the login", error=request.query_params.get("error", "")[:100])
            return login_page(request, 401, next_path=pending.next, problem="login_oidc_refused")
        try:
            id_token = await client.finish(str(request.url), pending, redirect_uri(request))
        except OidcFailed as exc:
            log.warning("OIDC login failed", why=str(exc))
            return login_page(request, 502, next_path=pending.next, problem="login_oidc_failed")
        answer = await gateway_of(request).sessions(
            "POST", "/v1/sessions/oidc", body={"id_token": id_token, "nonce": pending.nonce}, client=client_of(request)
        )
        if answer.status_code == 201:
            response = logged_in(request, answer.json(), pending.next, via_redirect=True)
            response.delete_cookie(OIDC_COOKIE, path="/login/oidc")
            return response
        if answer.status_code in (401, 422):
            request.app.state.login_throttle.failed(client_of(request))
            return login_page(request, 401, next_path=pending.next, problem="login_oidc_no_account")
        if answer.status_code == 429:
            return throttled(request, _retry_after(answer), locked=_error_of(answer)[0] == "login_locked")
        raise Unavailable(f"partners answered {answer.status_code} to an OpenID Connect login")

    async def end(request: Request, session: Session, path: str) -> Response:
        try:
            await gateway_of(request).sessions("DELETE", path, token=session.token, client=client_of(request))
        except Unavailable:
            pass  # forgotten here all the same; partners ends it when it is idle too long
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.post("/logout")
    async def log_out(request: Request, session: Anyone):
        await checked_form(request, session)
        sessions_of(request).log_out(request.cookies.get(COOKIE))
        return await end(request, session, "/v1/sessions/current")

    @router.post("/logout/everywhere")
    async def log_out_everywhere(request: Request, session: Anyone):
        await checked_form(request, session)
        sessions_of(request).end_account(session.account.account_id)
        return await end(request, session, "/v1/sessions")

    return router


def redirect_uri(request: Request) -> str:
    """Where the provider sends the browser back: under REGIA_CONSOLE_URL when set (what
    people reach, which the provider has registered), else this request's own origin."""
    base = request.app.state.settings.console_url or str(request.base_url)
    return f"{base.rstrip('/')}/login/oidc/callback"


def login_link(path: str) -> str:
    return f"/login?{urlencode({'next': path})}"
