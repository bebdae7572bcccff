"""Who may call a route: the one written policy of docs/security.md ("What is public"), as
code every service checks when it starts.

Every route of every service is in exactly one class:

- PUBLIC: anonymous. What Italian transparency rules publish (plans, objectives, needs,
  coverage, the money per line and level, reasons and acts, indicators, reviews), the open
  data files, the API documents and the health probes. A route is public only because it
  says so, with `PUBLIC_READ` among its dependencies: forgetting a credential is never a
  way to publish something.
- INSTITUTION: an institution's API key, limited to that institution's own lines (an
  administrator's token sees them all). Funding's operational reads and its ingestion.
- ADMIN: the administrators' token only. Contacts, e-mail addresses, preferences, keys,
  webhooks, rules, deliveries, the audit trail, operations, and every other write.
- LINK: the signed token of an e-mail's link: one contact's own preferences.

The class of a route is read from what its dependencies declare: `PUBLIC_READ`, or the
security schemes of `regia_shared.http.auth` that the credential-checking dependencies
carry (they are what puts `security` in the OpenAPI document). `check_access_policy` refuses
an app with a route that declares nothing, or both a credential and `PUBLIC_READ`; the
runtime calls it before serving (`ServiceRuntime.http_app`), and the OpenAPI document names
each operation's class in `x-regia-access`, which tests/integration/test_access_policy.py
walks for the four services. Which fields an anonymous answer may carry is checked there
too (never a contact, an e-mail address, a key, a webhook or the audit trail).
"""

from collections.abc import Iterator
from enum import StrEnum

from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.security.base import SecurityBase

from .auth import ADMIN_TOKEN, INSTITUTION_KEY, PREFERENCE_LINK

ACCESS_EXTENSION = "x-regia-access"


class Access(StrEnum):
    PUBLIC = "public"
    INSTITUTION = "institution"
    ADMIN = "admin"
    LINK = "link"


def public_read() -> None:
    """Marks a route anonymous on purpose (see the module's docstring); checks nothing."""


PUBLIC_READ = Depends(public_read)


class AccessNotDeclared(RuntimeError):
    """A route whose class cannot be told, or is told twice: the service must not start."""


def _calls(dependant: Dependant) -> Iterator[object]:
    """Every callable the route depends on, through sub-dependencies."""
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def access_of(route: RouteContext) -> Access:
    """The class of one route, as included (a router's dependencies count)."""
    calls = list(_calls(route.dependant))
    schemes = frozenset(c.scheme_name for c in calls if isinstance(c, SecurityBase))
    public = any(c is public_read for c in calls)
    where = f"{sorted(route.methods or ())} {route.path_format}"
    if public and schemes:
        raise AccessNotDeclared(f"{where} is marked PUBLIC_READ and also checks {sorted(schemes)}")
    if public:
        return Access.PUBLIC
    if INSTITUTION_KEY.scheme_name in schemes:
        return Access.INSTITUTION
    if schemes == {ADMIN_TOKEN.scheme_name}:
        return Access.ADMIN
    if schemes == {PREFERENCE_LINK.scheme_name}:
        return Access.LINK
    if not schemes:
        raise AccessNotDeclared(f"{where} checks no credential and is not marked PUBLIC_READ: declare who may call it")
    raise AccessNotDeclared(f"{where} mixes credentials the policy has no class for: {sorted(schemes)}")


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
    """`doc` (the OpenAPI document) with each operation's class in `x-regia-access`."""
    classes = check_access_policy(app)
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            access = classes.get((method.upper(), path))
            if access is not None and isinstance(operation, dict):
                operation[ACCESS_EXTENSION] = access.value
    return doc
