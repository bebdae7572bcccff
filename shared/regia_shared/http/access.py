"""Who may call a route: the one written policy of docs/security.md ("What is public"), as
code every service checks when it starts.

Every route of every service is in exactly one class:

- PUBLIC: anonymous. What Italian transparency rules publish (plans, objectives, needs,
  coverage, the money per line and level, reasons and acts, indicators, reviews), the open
  data files, the API documents and the health probes. A route is public only because it
  says so, with `PUBLIC_READ` among its dependencies: forgetting a credential is never a
  way to publish something.
- INSTITUTION: an institution's API key or one of its officers, limited to that
  institution's own lines; administrators see them all and observers read them all.
  Funding's operational reads and its ingestion.
- ADMIN: administrators only (people with that role, or the admin token). People and
  their roles, contacts, e-mail addresses, keys, webhooks, secrets, operations.
- STAFF: administrators; observers may read. The plan's management, rules, deliveries,
  the audit trail.
- LEAD: administrators, and a project lead on what their partner leads; observers read.
- PERSON: any logged-in person, on their own things (their account, their alert preferences).
- LINK: the signed token of an e-mail's link: one contact's own preferences.

The class of a route is read from what its dependencies declare: `PUBLIC_READ`, an
`Allow` of regia_shared.http.auth (whose roles also go in `x-regia-roles`), or the security schemes of `regia_shared.http.auth` that the credential-checking dependencies
carry (they are what puts `security` in the OpenAPI document). `check_access_policy` refuses
an app with a route that declares nothing, or both a credential and `PUBLIC_READ`; the
runtime calls it before serving (`ServiceRuntime.http_app`), and the OpenAPI document names
each operation's class in `x-regia-access`, which tests/integration/test_access_policy.py
walks for the four services. Which fields an anonymous answer may carry is checked there
too (never a contact, an e-mail address, a key, a webhook or the audit trail).
"""

from collections.abc import Iterator

from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.security.base import SecurityBase

from .auth import INSTITUTION_KEY, PREFERENCE_LINK, Access, Allow

ACCESS_EXTENSION = "x-regia-access"
ROLES_EXTENSION = "x-regia-roles"

__all__ = ["ACCESS_EXTENSION", "PUBLIC_READ", "Access", "AccessNotDeclared", "check_access_policy"]


async def public_read() -> None:
    """Marks a route anonymous on purpose (see the module's docstring); checks nothing."""


PUBLIC_READ = Depends(public_read)


class AccessNotDeclared(RuntimeError):
    """A route whose class cannot be told, or is told twice: the service must not start."""


def _calls(dependant: Dependant) -> Iterator[object]:
    """Every callable the route depends on, through sub-dependencies."""
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _allows(route: RouteContext) -> list[Allow]:
    return [c for c in _calls(route.dependant) if isinstance(c, Allow)]


def access_of(route: RouteContext) -> Access:
    """The class of one route, as included (a router's dependencies count)."""
    calls = list(_calls(route.dependant))
    schemes = frozenset(c.scheme_name for c in calls if isinstance(c, SecurityBase))
    public = any(c is public_read for c in calls)
    allows = {a.access for a in _allows(route)}
    where = f"{sorted(route.methods or ())} {route.path_format}"
    if public and schemes:
        raise AccessNotDeclared(f"{where} is marked PUBLIC_READ and also checks {sorted(schemes)}")
    if public:
        return Access.PUBLIC
    if len(allows) > 1:
        raise AccessNotDeclared(f"{where} declares several classes: {sorted(a.value for a in allows)}")
    if INSTITUTION_KEY.scheme_name in schemes:
        if allows:
            raise AccessNotDeclared(f"{where} checks an institution key and also declares {sorted(allows)}")
        return Access.INSTITUTION
    if allows:
        return next(iter(allows))
    if schemes == {PREFERENCE_LINK.scheme_name}:
        return Access.LINK
    if not schemes:
        raise AccessNotDeclared(f"{where} checks no credential and is not marked PUBLIC_READ: declare who may call it")
    raise AccessNotDeclared(f"{where} mixes credentials the policy has no class for: {sorted(schemes)}")


def roles_of(route: RouteContext, method: str) -> list[str] | None:
    """The roles an Allow of the route lets call it with `method`, if it declares one."""
    allows = _allows(route)
    if not allows:
        return None
    allowed = allows[0].readers if method in {"GET", "HEAD"} else allows[0].writers
    return sorted(r.value for r in allowed)


def api_routes(app: FastAPI) -> Iterator[RouteContext]:
    """Every FastAPI route of the app as included, documented or not (FastAPI's own
    /openapi.json is a plain route outside this walk: the API document is public by nature)."""
    for route in iter_route_contexts(app.router.routes):
        if isinstance(route.original_route, APIRoute):
            yield route


def check_access_policy(app: FastAPI) -> dict[tuple[str, str], Access]:
    """The class of every route, by (method, path); raises AccessNotDeclared listing every
    route that breaks the policy."""
    classes: dict[tuple[str, str], Access] = {}
    problems: list[str] = []
    for route in api_routes(app):
        try:
            access = access_of(route)
        except AccessNotDeclared as exc:
            problems.append(str(exc))
            continue
        for method in route.methods or ():
            classes[(method, str(route.path_format))] = access
    if problems:
        raise AccessNotDeclared("; ".join(problems))
    return classes


def document_access(doc: dict, app: FastAPI) -> dict:
    """`doc` (the OpenAPI document) with each operation's class in `x-regia-access` and,
    where the route declares them, the roles that may call it in `x-regia-roles`."""
    classes = check_access_policy(app)
    roles = {
        (method, str(route.path_format)): found
        for route in api_routes(app)
        for method in route.methods or ()
        if (found := roles_of(route, method)) is not None
    }
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            access = classes.get((method.upper(), path))
            if access is not None and isinstance(operation, dict):
                operation[ACCESS_EXTENSION] = access.value
                if (method.upper(), path) in roles:
                    operation[ROLES_EXTENSION] = roles[(method.upper(), path)]
    return doc
