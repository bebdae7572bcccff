"""regia_shared.http.access: a route is public only when it says so, and a route that
declares nothing, or both, stops the app (the four services' routes are walked in
tests/integration/test_access_policy.py)."""

import pytest
from fastapi import APIRouter, Depends, FastAPI

from regia_shared.http.access import PUBLIC_READ, Access, AccessNotDeclared, check_access_policy
from regia_shared.http.auth import AdminTokenScheme, InstitutionKeyScheme, PreferenceLinkScheme, require_admin
from regia_shared.http.openapi import install_openapi


def institution_or_admin(_key: InstitutionKeyScheme = None, _admin: AdminTokenScheme = None) -> None: ...


def link(_: PreferenceLinkScheme = None) -> None: ...


def app_with(router: APIRouter) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    return app


def test_each_route_gets_the_class_its_dependencies_declare() -> None:
    router = APIRouter(prefix="/v1")
    router.get("/open", dependencies=[PUBLIC_READ])(lambda: None)
    router.get("/admin", dependencies=[Depends(require_admin)])(lambda: None)
    router.get("/scoped", dependencies=[Depends(institution_or_admin)])(lambda: None)
    router.put("/link", dependencies=[Depends(link)])(lambda: None)
    admin_router = APIRouter(dependencies=[Depends(require_admin)])
    admin_router.delete("/v1/thing")(lambda: None)
    app = app_with(router)
    app.include_router(admin_router)
    assert check_access_policy(app) == {
        ("GET", "/v1/open"): Access.PUBLIC,
        ("GET", "/v1/admin"): Access.ADMIN,
        ("GET", "/v1/scoped"): Access.INSTITUTION,
        ("PUT", "/v1/link"): Access.LINK,
        ("DELETE", "/v1/thing"): Access.ADMIN,
    }


def test_a_route_that_forgot_its_credential_is_not_published() -> None:
    router = APIRouter()
    router.get("/v1/contacts")(lambda: None)
    with pytest.raises(AccessNotDeclared, match="/v1/contacts checks no credential"):
        check_access_policy(app_with(router))


def test_public_and_a_credential_at_once_is_refused() -> None:
    router = APIRouter(dependencies=[PUBLIC_READ])
    router.get("/v1/keys", dependencies=[Depends(require_admin)])(lambda: None)
    with pytest.raises(AccessNotDeclared, match="marked PUBLIC_READ and also checks"):
        check_access_policy(app_with(router))


def test_the_openapi_document_names_each_operations_class() -> None:
    router = APIRouter()
    router.get("/v1/open", dependencies=[PUBLIC_READ])(lambda: None)
    router.post("/v1/admin", dependencies=[Depends(require_admin)])(lambda: None)
    app = app_with(router)
    install_openapi(app)
    paths = app.openapi()["paths"]
    assert paths["/v1/open"]["get"]["x-regia-access"] == "public"
    assert paths["/v1/admin"]["post"]["x-regia-access"] == "admin"
