"""The console's composition root: settings, sessions, the services' gateway, the event
feed, the routes, and the headers that keep pages to their own origin."""

import contextlib
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from regia_shared.contracts import kafka_access
from regia_shared.contracts.catalogue import CONSOLE
from regia_shared.http.query_params import declared_query_parameters
from regia_shared.messaging import signing
from regia_shared.messaging.security import KafkaSecurity
from regia_shared.observability.logs import get_logger

from .account_pages import account_pages_router
from .auth import BadForm, LoginRequired, LoginThrottle, auth_router, fresh
from .feed import EventFeed
from .gateway import Forbidden, Gateway, NotFound, Refused, TokenRefused, Unavailable
from .live import live_router
from .oidc import OidcClient, Provider
from .pages import pages_router
from .preference_pages import preference_pages_router
from .rendering import here, render
from .roles import home_of
from .sessions import COOKIE, Session, Sessions
from .settings import ConsoleSettings

log = get_logger(__name__)

STATIC = Path(__file__).parent / "static"
# Everything from this origin and nothing inline: an injected <script> would not run.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


# What every page takes besides its own parameters: the language (rendering reads it).
PAGE_WIDE_PARAMETERS = frozenset({"lang"})
# Pages whose query another party writes: the identity provider's redirect back carries
# what it chooses (iss, session_state, scope...) besides the code and the state.
OPEN_QUERY = frozenset({"/login/oidc/callback"})


async def refuse_unknown_parameters(request: Request) -> None:
    """A query parameter the page does not take is a 400 page naming it, as the services
    refuse one with a 422 (regia_shared.http.query_params): a misspelt filter
    (`/objectives?stauts=AT_RISK`) must not show the unfiltered page as if it applied."""
    route = request.scope.get("route")
    if not request.scope.get("query_string") or not isinstance(route, APIRoute) or route.path in OPEN_QUERY:
        return
    allowed = declared_query_parameters(route) | PAGE_WIDE_PARAMETERS
    unknown = [k[:100] for k in dict.fromkeys(request.query_params.keys()) if k not in allowed]
    if unknown:
        raise Refused(f"unknown query parameter {unknown[0]!r}; this page takes: {', '.join(sorted(allowed))}")


def feed_keys(settings: ConsoleSettings) -> signing.EventKeys | None:
    """The owners' keys the live page verifies events with, if the console was given them."""
    if settings.event_signing_keys is None:
        log.warning("REGIA_EVENT_SIGNING_KEYS unset: the live page shows events unverified")
        return None
    return signing.EventKeys.parse(settings.event_signing_keys.get_secret_value())


def create_app(settings: ConsoleSettings | None = None, feed: EventFeed | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.feed.start()
        try:
            yield
        finally:
            await app.state.feed.stop()
            await app.state.gateway.close()

    app = FastAPI(
        title="Regia console",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(refuse_unknown_parameters)],
    )
    app.state.settings = settings
    sessions = app.state.sessions = Sessions(settings.console_session_hours * 3600)
    app.state.gateway = Gateway(settings.service_urls())
    app.state.login_throttle = LoginThrottle(settings.console_login_per_minute / 60, settings.console_login_burst)
    app.state.oidc = oidc_client(settings, app.state.gateway)
    app.state.feed = feed or EventFeed(
        # Not the inbound commands: their headers carry institutions' keys (kafka_access).
        settings.kafka_bootstrap_servers,
        kafka_access.CONSOLE_READS,
        settings.console_events_kept,
        KafkaSecurity.of(settings),
        feed_keys(settings),
    )
    app.add_middleware(GZipMiddleware, minimum_size=2048)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages carry people's data
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired):
        if exc.path == "/events/stream":
            return PlainTextResponse("log in first", status_code=401)
        return RedirectResponse(f"/login?{urlencode({'next': exc.path})}", status_code=303)

    @app.exception_handler(TokenRefused)
    async def token_refused(request: Request, exc: TokenRefused) -> Response:
        """A service refused the person's token. Partners tells whether the session is
        over: a refresh that fails sends them to log in again (they logged out
        everywhere, their role changed, their account was disabled); one that works
        means this service does not take the token for this, which the page says."""
        session = session_of(request)
        if session is not None:
            session.token_expires_at = 0.0
            try:
                await fresh(request, session)
            except LoginRequired:
                session = None
            except Unavailable as down:
                return render(request, "unavailable.html", status_code=503, session=session, why=str(down))
        if session is None:
            sessions.log_out(request.cookies.get(COOKIE))
            if request.scope["path"] == "/events/stream":
                return PlainTextResponse("log in again", status_code=401)
            return RedirectResponse(f"/login?{urlencode({'next': here(request)})}", status_code=303)
        return render(request, "unavailable.html", status_code=503, session=session, why=str(exc))

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> HTMLResponse:
        session = session_of(request)
        home = home_of(session.role) if session else "/login"
        return render(request, "forbidden.html", status_code=403, session=session, home=home)

    @app.exception_handler(BadForm)
    async def refuse_form(request: Request, exc: BadForm):
        return PlainTextResponse(
            "refused: this form is stale or not from the console; reload the page", status_code=403
        )

    # Every error is a page of the console with a way back, never a bare 500 or FastAPI's
    # JSON: 404 for what does not exist, 400 saying what was wrong, 503 when a service is down.
    def session_of(request: Request) -> Session | None:
        return sessions.get(request.cookies.get(COOKIE))  # the nav, when logged in

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> HTMLResponse:
        return render(request, "unavailable.html", status_code=503, session=session_of(request), why=str(exc))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> HTMLResponse:
        return render(request, "missing.html", status_code=404, session=session_of(request), what=request.scope["path"])

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> HTMLResponse:
        return render(request, "bad_request.html", status_code=400, session=session_of(request), problems=[str(exc)])

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> HTMLResponse:
        problems = [f"{error['loc'][-1]}: {error['msg']}" for error in exc.errors()][:10]
        return render(request, "bad_request.html", status_code=400, session=session_of(request), problems=problems)

    @app.exception_handler(HTTPException)
    async def no_such_page(request: Request, exc: HTTPException) -> Response:
        if exc.status_code != 404:  # 405 and the like: what Starlette says is right
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)
        return render(request, "missing.html", status_code=404, session=session_of(request), what=request.scope["path"])

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.get("/health/ready", include_in_schema=False)
    async def ready():
        return {"status": "ok", "service": CONSOLE.name}

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(auth_router())
    app.include_router(pages_router())
    app.include_router(live_router())
    app.include_router(preference_pages_router())
    app.include_router(account_pages_router())
    return app


def oidc_client(settings: ConsoleSettings, gateway: Gateway) -> OidcClient | None:
    """The identity provider's client when all three settings are given, else None (the
    login page then offers passwords only)."""
    if not (settings.console_oidc_issuer and settings.console_oidc_client_id and settings.console_oidc_client_secret):
        return None
    provider = Provider(
        settings.console_oidc_issuer,
        settings.console_oidc_client_id,
        settings.console_oidc_client_secret.get_secret_value(),
        settings.console_oidc_scopes,
    )
    return OidcClient(provider, gateway.http)
