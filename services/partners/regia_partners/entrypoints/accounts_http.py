"""People's accounts and sessions (issue 20).

Logging in is anonymous by nature (`POST /v1/sessions`, `/v1/sessions/refresh`,
`/v1/sessions/oidc`): a refused attempt counts against the caller's address like any refused
anonymous request (regia_shared.http.audit), and against the account (service_layer.accounts).
A person manages their own credentials and sessions under `/v1/account`; administrators
manage everyone's under `/v1/accounts`.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from regia_shared.http.access import PUBLIC_READ
from regia_shared.http.audit import allow_anonymous_write, set_actor
from regia_shared.http.auth import ADMINS, PEOPLE, Principal
from regia_shared.http.identity import Person, Role
from regia_shared.http.paging import Page, Paged, text
from regia_shared.http.writes import ReasonedWrite

from ..adapters import accounts as stored
from ..domain.accounts import AccountChange, AccountNotFound, AccountRefused, Credentials, NewAccount, PasswordChange
from ..service_layer.accounts import Accounts, Issued
from .responses import PathId

SESSION_ROUTES = ("/v1/sessions", "/v1/sessions/refresh", "/v1/sessions/oidc")


class AccountShown(BaseModel):
    account_id: str
    name: str
    email: str | None
    role: Role
    institution_id: str | None
    partner_id: str | None
    contact_id: str | None
    oidc_subject: str | None
    totp_enabled: bool
    has_password: bool
    disabled_at: datetime | None
    locked_until: datetime | None
    created_at: datetime
    changed_at: datetime


class SessionAccount(BaseModel):
    account_id: str
    name: str
    role: Role
    institution_id: str | None
    partner_id: str | None
    contact_id: str | None
    session_id: str


class SessionIssued(BaseModel):
    access_token: str = Field(description="Send as `Authorization: Bearer <access_token>` to every service")
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds the access token is good for: refresh it before then")
    refresh_token: str = Field(description="Gives a new pair at POST /v1/sessions/refresh, once")
    account: SessionAccount


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: Annotated[str, Field(min_length=1, max_length=300)]


class OidcLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_token: Annotated[str, Field(min_length=1, max_length=20_000)]
    nonce: Annotated[str | None, Field(None, max_length=200, description="The nonce the client sent the provider")]


class TotpCode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class OpenSession(BaseModel):
    session_id: str
    method: str
    created_at: datetime
    refreshed_at: datetime
    expires_at: datetime
    client_address: str | None
    user_agent: str | None


class SessionsEnded(BaseModel):
    ended: int = Field(description="How many sessions this ended")


class SessionEnded(BaseModel):
    ended: bool = Field(description="false: it was over already")


class PasswordChanged(BaseModel):
    sessions_ended: int = Field(description="Every session of yours ended with the change: log in again")


class TotpEnrolment(BaseModel):
    secret: str = Field(description="The base32 secret to put in an authenticator app (shown once)")
    otpauth_uri: str = Field(description="The same, as an otpauth:// URI for a QR code")


class TotpEnabled(BaseModel):
    totp_enabled: bool


class Unlocked(BaseModel):
    unlocked: bool


class Me(BaseModel):
    account: AccountShown
    sessions: list[OpenSession]


def person_of(principal: Principal) -> Person:
    if principal.person is None:
        raise AccountRefused("the admin token has no account of its own: log in as a person", None)
    return principal.person


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def accounts_router(use_cases: "AccountsHolder") -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["accounts"])
    for path in SESSION_ROUTES:
        allow_anonymous_write(path)

    def issued(request: Request, outcome: Issued, status: int = 201) -> JSONResponse:
        set_actor(request, outcome.person.actor)
        return JSONResponse(outcome.body(), status, headers={"Cache-Control": "no-store"})

    @router.post("/sessions", status_code=201, response_model=SessionIssued, dependencies=[PUBLIC_READ])
    async def log_in(request: Request, credentials: Annotated[Credentials, Body()]) -> JSONResponse:
        """Log in with a login and password (and the TOTP code, once enrolled). Wrong login
        or password: 401 `invalid_credentials`, the same for both; a second factor needed:
        401 `totp_required`; too many failures: 429 `login_locked` with Retry-After."""
        outcome = await use_cases().log_in(credentials, _client(request), request.headers.get("user-agent"))
        return issued(request, outcome)

    @router.post("/sessions/oidc", status_code=201, response_model=SessionIssued, dependencies=[PUBLIC_READ])
    async def log_in_oidc(request: Request, login: Annotated[OidcLogin, Body()]) -> JSONResponse:
        """Log in with an ID token of the configured OpenID Connect provider (the console
        does the authorisation-code flow and hands the token here)."""
        outcome = await use_cases().log_in_oidc(
            login.id_token, login.nonce, _client(request), request.headers.get("user-agent")
        )
        return issued(request, outcome)

    @router.post("/sessions/refresh", response_model=SessionIssued, dependencies=[PUBLIC_READ])
    async def refresh(request: Request, body: Annotated[RefreshRequest, Body()]) -> JSONResponse:
        """A new access token and refresh token for an open session; the refresh token sent
        is spent (sent again, it ends the session)."""
        return issued(request, await use_cases().refresh(body.refresh_token), 200)

    @router.delete("/sessions/current")
    async def log_out(principal: Annotated[Principal, Depends(PEOPLE)]) -> SessionEnded:
        """End this session: its refresh token stops at once, its access tokens within minutes."""
        return SessionEnded(ended=await use_cases().log_out(person_of(principal)))

    @router.delete("/sessions")
    async def log_out_everywhere(principal: Annotated[Principal, Depends(PEOPLE)]) -> SessionsEnded:
        """End every session of your account, on every device."""
        person = person_of(principal)
        return SessionsEnded(ended=await use_cases().log_out_everywhere(person.account_id, "logged out everywhere"))

    @router.get("/account")
    async def me(principal: Annotated[Principal, Depends(PEOPLE)]) -> Me:
        """Your account and your open sessions."""
        person = person_of(principal)
        async with use_cases().pool.acquire() as conn:
            row = await stored.shown(conn, person.account_id)
            sessions = await stored.open_sessions(conn, person.account_id)
        if row is None:
            raise AccountNotFound(f"no account {person.account_id!r}", None)
        return Me(account=AccountShown(**dict(row)), sessions=[OpenSession(**s) for s in sessions])

    @router.post("/account/password")
    async def change_password(
        principal: Annotated[Principal, Depends(PEOPLE)], change: Annotated[PasswordChange, Body()]
    ) -> PasswordChanged:
        """Change your password; every session of yours ends (log in again)."""
        return PasswordChanged(sessions_ended=await use_cases().change_password(person_of(principal), change))

    @router.post("/account/totp")
    async def begin_totp(principal: Annotated[Principal, Depends(PEOPLE)]) -> TotpEnrolment:
        """Start enrolling a TOTP second factor: put the secret (or the otpauth URI, as a QR
        code) in an authenticator app, then confirm with a code from it."""
        return TotpEnrolment(**await use_cases().totp_begin(person_of(principal)))

    @router.post("/account/totp/confirm")
    async def confirm_totp(
        principal: Annotated[Principal, Depends(PEOPLE)], body: Annotated[TotpCode, Body()]
    ) -> TotpEnabled:
        """Confirm the enrolment with a code from the app: from now on logins ask for one."""
        await use_cases().totp_confirm(person_of(principal), body.code)
        return TotpEnabled(totp_enabled=True)

    admin = APIRouter(prefix="/v1", tags=["accounts"], dependencies=[Depends(ADMINS)])

    @admin.post("/accounts", status_code=201, response_model=AccountShown)
    async def create_account(new: Annotated[NewAccount, Body()], write: ReasonedWrite) -> JSONResponse:
        """Make a person's account with its role (administrators only; say why in
        X-Regia-Reason: the audit keeps who gave whom which role)."""
        row = await use_cases().create(new, write)
        return JSONResponse(
            AccountShown(**row).model_dump(mode="json"), 201, headers={"Location": f"/v1/accounts/{new.account_id}"}
        )

    @admin.get("/accounts", response_model=Page[AccountShown])
    async def list_accounts(page: Paged) -> Page[dict]:
        after = page.after("accounts", {}, (text,))
        async with use_cases().pool.acquire() as conn:
            found = await stored.listing(conn, after, page.limit + 1)
        return page.of(found, key=lambda a: (a["account_id"],))

    @admin.get("/accounts/{account_id}")
    async def get_account(account_id: PathId) -> AccountShown:
        async with use_cases().pool.acquire() as conn:
            row = await stored.shown(conn, account_id)
        if row is None:
            raise AccountNotFound(f"no account {account_id!r}", "account_id")
        return AccountShown(**dict(row))

    @admin.patch("/accounts/{account_id}")
    async def change_account(
        account_id: PathId, change: Annotated[AccountChange, Body()], write: ReasonedWrite
    ) -> AccountShown:
        """Change a person's role, scope, name, or disable the account (say why in
        X-Regia-Reason). Any change but the name ends their sessions, so their next token
        carries what they now may do."""
        return AccountShown(**await use_cases().change(account_id, change, write))

    @admin.post("/accounts/{account_id}/unlock")
    async def unlock(account_id: PathId) -> Unlocked:
        """Lift a lock that failed logins put on the account."""
        await use_cases().unlock(account_id)
        return Unlocked(unlocked=True)

    @admin.delete("/accounts/{account_id}/sessions")
    async def end_sessions(account_id: PathId) -> SessionsEnded:
        """End every session of the account (a lost phone, a person who left)."""
        return SessionsEnded(ended=await use_cases().log_out_everywhere(account_id, "ended by an administrator"))

    # Each router carries the whole prefix: a route's template (the audit records it) is
    # what its own router made of it.
    both = APIRouter()
    both.include_router(router)
    both.include_router(admin)
    return both


class AccountsHolder:
    """The use cases, built once the runtime has its pool (after the routes are declared)."""

    def __init__(self, runtime: object) -> None:
        self.runtime = runtime
        self._accounts: Accounts | None = None

    def __call__(self) -> Accounts:
        if self._accounts is None:
            runtime = self.runtime
            self._accounts = Accounts(runtime.pool, runtime.settings)  # type: ignore[attr-defined]
        return self._accounts
