"""Who is calling and what they may do, for every service.

Credentials, each sent as `Authorization: Bearer <credential>`:
- a person's session token (a JWT from the partners service's `POST /v1/sessions`, checked
  here with the public keys: regia_shared.http.identity), which names their role;
- the administrators' token, for machines (the `regia` CLI, deployment jobs) and for making
  the first accounts: it acts as an administrator, and the audit names it `admin`;
- an institution's API key (funding checks those: its entrypoints/auth.py);
- the signed token of an e-mail's link (one contact's own preferences).

API keys and the admin token are 256-bit random strings, so a fast hash (SHA-256, compared
in constant time, never stored in clear) is enough: there is no low-entropy password to
protect against brute force. People's passwords are another matter: argon2id, in partners.

`Allow` is the dependency a route (or a router) declares to say which roles may call it,
for reads (GET, HEAD) and for writes; `regia_shared.http.access` reads it to classify the
route, and docs/security.md ("Roles") is the table of who may do what.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .identity import Person, Role, SessionVerifier, looks_like_session_token

READS = frozenset({"GET", "HEAD"})

# The credentials a Regia service reads, all sent as `Authorization: Bearer <credential>`.
# Declared as FastAPI security schemes so that the OpenAPI document lists, per operation,
# the credential its route checks. They check nothing themselves (auto_error=False): the
# code below and the services' own dependencies do, with the one error shape.
ADMIN_TOKEN = HTTPBearer(
    scheme_name="adminToken",
    description="The administrators' token (REGIA_ADMIN_TOKEN_SHA256 holds its SHA-256)",
    auto_error=False,
)
INSTITUTION_KEY = HTTPBearer(
    scheme_name="institutionKey",
    bearerFormat="rgk_<key_id>.<secret>",
    description="An institution's API key, issued by POST /v1/institutions/{id}/keys (funding)",
    auto_error=False,
)
PREFERENCE_LINK = HTTPBearer(
    scheme_name="preferenceLink",
    description="The signed token of an e-mail's unsubscribe or preferences link",
    auto_error=False,
)
PERSON_SESSION = HTTPBearer(
    scheme_name="personSession",
    bearerFormat="JWT",
    description="A person's session token, from POST /v1/sessions on the partners service; it names their role",
    auto_error=False,
)
AdminTokenScheme = Annotated[HTTPAuthorizationCredentials | None, Security(ADMIN_TOKEN)]
InstitutionKeyScheme = Annotated[HTTPAuthorizationCredentials | None, Security(INSTITUTION_KEY)]
PreferenceLinkScheme = Annotated[HTTPAuthorizationCredentials | None, Security(PREFERENCE_LINK)]
PersonSessionScheme = Annotated[HTTPAuthorizationCredentials | None, Security(PERSON_SESSION)]


# Where a request's verified actor is kept (request.state), for its audit rows
# (regia_shared.http.audit.set_actor writes it; defined here, which audit imports).
ACTOR_STATE = "audit_actor"
ACTOR_NAME_STATE = "audit_actor_name"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def secret_matches(secret: str, expected_sha256: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), expected_sha256)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing credentials: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


@dataclass(frozen=True)
class Principal:
    """Whoever a verified credential names: a person, or the administrators' token."""

    actor: str  # as the audit names them: person:<account_id>, or admin
    name: str
    role: Role
    person: Person | None = None  # None for the admin token

    @property
    def institution_id(self) -> str | None:
        return self.person.institution_id if self.person else None

    @property
    def partner_id(self) -> str | None:
        return self.person.partner_id if self.person else None

    @property
    def contact_id(self) -> str | None:
        return self.person.contact_id if self.person else None


ADMIN_TOKEN_PRINCIPAL = Principal(actor="admin", name="admin token", role=Role.ADMINISTRATOR)
PRINCIPAL_STATE = "principal"


def session_verifier(request: Request) -> SessionVerifier:
    """The app's verifier, built once from its settings."""
    state = request.app.state
    verifier = getattr(state, "session_verifier", None)
    if verifier is None:
        verifier = SessionVerifier(getattr(state.settings, "session_public_keys", "") or "")
        state.session_verifier = verifier
    return verifier


def admin_token_matches(request: Request, token: str) -> bool:
    expected = request.app.state.settings.admin_token_sha256
    return expected is not None and secret_matches(token, expected.get_secret_value())


def principal_for(request: Request, token: str) -> Principal | None:
    """Who `token` names: a person by a valid session token, the admin token, or None."""
    if looks_like_session_token(token):
        person = session_verifier(request).person(token)
        return None if person is None else Principal(person.actor, person.name, person.role, person)
    if admin_token_matches(request, token):
        return ADMIN_TOKEN_PRINCIPAL
    return None


def remember(request: Request, principal: Principal) -> None:
    """This request's caller, for the audit (regia_shared.http.audit reads it)."""
    setattr(request.state, PRINCIPAL_STATE, principal)
    setattr(request.state, ACTOR_STATE, principal.actor)
    setattr(request.state, ACTOR_NAME_STATE, principal.name)


class Access(StrEnum):
    """The class of a route: who may call it (docs/security.md, "What is public" and "Roles")."""

    PUBLIC = "public"  # anonymous, on purpose (regia_shared.http.access.PUBLIC_READ)
    INSTITUTION = "institution"  # an institution's key or officer: its own; administrators: all; observers read
    ADMIN = "admin"  # administrators only: people, keys, contacts, webhooks, secrets
    STAFF = "staff"  # administrators; observers may read
    LEAD = "lead"  # administrators, and project leads on what their partner leads; observers read
    PERSON = "person"  # any logged-in person, on their own things (their account, their alerts)
    LINK = "link"  # the signed token of an e-mail's link: one contact's own preferences


class Allow:
    """Route dependency: the roles that may write (any method but GET and HEAD) and those
    that may also read. Answers the caller (a Principal); 401 without a valid credential,
    403 naming the role and what it may do otherwise. Scoping within a role (a lead's own
    objectives) is the route's to check, with the Principal."""

    def __init__(self, access: Access, writers: frozenset[Role], readers: frozenset[Role] = frozenset()) -> None:
        self.access, self.writers, self.readers = access, writers, writers | readers

    def __repr__(self) -> str:
        return f"Allow({self.access.value})"

    async def __call__(self, request: Request, _token: AdminTokenScheme, _session: PersonSessionScheme) -> Principal:
        principal = principal_for(request, bearer_token(request))
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="invalid credentials: log in again (a session token lasts minutes) or send a valid token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        remember(request, principal)
        reading = request.method in READS
        allowed = self.readers if reading else self.writers
        if principal.role not in allowed:
            what = "read" if reading else "change"
            who = ", ".join(sorted(r.value for r in allowed)) or "no one"
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"a person with the role {principal.role.value} may not {what} this; it is for: {who}",
            )
        return principal


ALL_ROLES = frozenset(Role)
ADMINISTRATORS = frozenset({Role.ADMINISTRATOR})
ADMINS = Allow(Access.ADMIN, ADMINISTRATORS)
STAFF = Allow(Access.STAFF, ADMINISTRATORS, frozenset({Role.OBSERVER}))
LEADS = Allow(Access.LEAD, frozenset({Role.ADMINISTRATOR, Role.PROJECT_LEAD}), frozenset({Role.OBSERVER}))
PEOPLE = Allow(Access.PERSON, ALL_ROLES)
# The dependency most routes had before people had roles: administrators only.
require_admin = ADMINS
