"""The contract every service's OpenAPI document keeps (docs/api.md, "The contract every
endpoint keeps"), checked on the four apps as they are built, without running them: every
success answer has a typed schema, every operation documents the real error shape, and the
bearer credentials are declared and required where the routes check them.

Each failure lists every operation that breaks the rule, by method and path, so one run
says all there is to fix."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from regia_funding.app import create_app as funding_app
from regia_notifier.app import create_app as notifier_app
from regia_objectives.app import create_app as objectives_app
from regia_partners.app import create_app as partners_app
from regia_shared.http.errors import install_error_handlers
from regia_shared.http.openapi import ERROR_SCHEMA

APPS: dict[str, Callable[[], FastAPI]] = {
    "funding": funding_app,
    "objectives": objectives_app,
    "partners": partners_app,
    "notifier": notifier_app,
}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
# Operations anyone may call: probes, and what a webhook receiver's developer reads.
PUBLIC = {
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/v1/webhooks/payload-schema"),
    # Logging in: anonymous by nature (the credentials are the body).
    ("POST", "/v1/sessions"),
    ("POST", "/v1/sessions/oidc"),
    ("POST", "/v1/sessions/refresh"),
}


@pytest.fixture(scope="module", params=sorted(APPS))
def document(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return request.param, APPS[request.param]().openapi()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def typed(doc: dict[str, Any], schema: dict[str, Any] | None, depth: int = 0) -> bool:
    """Whether a schema says what the answer holds: a model with properties, a list of
    typed items, a typed scalar, or a union of typed alternatives; never `{}` or a bare
    `object` whose keys and values could be anything."""
    if not schema or depth > 20:
        return False
    schema = resolve(doc, schema)
    alternatives = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if alternatives:
        return all(typed(doc, s, depth + 1) for s in alternatives)
    kind = schema.get("type")
    if kind == "array":
        return typed(doc, schema.get("items"), depth + 1)
    if kind == "object":
        if schema.get("properties"):
            return True
        values = schema.get("additionalProperties")
        return isinstance(values, dict) and typed(doc, values, depth + 1)
    return kind in {"string", "integer", "number", "boolean", "null"}


def test_every_success_answer_has_a_typed_schema(document: tuple[str, dict[str, Any]]) -> None:
    service, doc = document
    untyped = []
    for method, path, op in operations(doc):
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                continue
            content = response.get("content", {}).get("application/json")
            if content is not None and not typed(doc, content.get("schema")):
                untyped.append(f"{method} {path} ({status})")
    assert untyped == [], f"{service}: {len(untyped)} success answers without a typed schema:\n" + "\n".join(untyped)


def test_every_operation_documents_the_real_error_shape(document: tuple[str, dict[str, Any]]) -> None:
    service, doc = document
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert set(schemas[ERROR_SCHEMA]["required"]) == {"error", "message", "field", "details"}
    wrong = []
    for method, path, op in operations(doc):
        for status, response in op["responses"].items():
            if status[0] not in "45":
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if status == "503" and path == "/health/ready":
                continue  # the probe's own report, documented as such
            if schema.get("$ref") != f"#/components/schemas/{ERROR_SCHEMA}":
                wrong.append(f"{method} {path} ({status})")
        if "422" not in op["responses"]:
            wrong.append(f"{method} {path} (no 422)")
    assert wrong == [], f"{service}: errors not documented as {ERROR_SCHEMA}:\n" + "\n".join(wrong)


def test_the_bearer_schemes_are_declared_and_required_where_checked(document: tuple[str, dict[str, Any]]) -> None:
    service, doc = document
    schemes = doc["components"]["securitySchemes"]
    assert schemes["adminToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The administrators' token (REGIA_ADMIN_TOKEN_SHA256 holds its SHA-256)",
    }
    assert all(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    if service not in {"partners", "notifier"}:
        return  # whose reads are public is the funding and objectives services' own choice
    open_ = [
        f"{method} {path}"
        for method, path, op in operations(doc)
        if not op.get("security") and (method, path) not in PUBLIC
    ]
    assert open_ == [], f"{service}: operations without a credential:\n" + "\n".join(open_)
    for method, path, op in operations(doc):
        if op.get("security"):
            assert "401" in op["responses"], (method, path)


def test_a_list_endpoint_answers_one_page_shape() -> None:
    doc = partners_app().openapi()
    page = resolve(
        doc, doc["paths"]["/v1/partners"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    )
    assert set(page["properties"]) == {"items", "next_cursor"}
    names = {p["name"] for p in doc["paths"]["/v1/partners"]["get"]["parameters"]}
    assert {"limit", "cursor"} <= names and "offset" not in names


def test_a_bug_is_answered_in_the_error_shape_too() -> None:
    api = FastAPI()
    install_error_handlers(api)

    @api.get("/broken")
    async def broken() -> dict:
        raise RuntimeError("secret detail of the failure")

    answer = TestClient(api, raise_server_exceptions=False).get("/broken")
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "internal_error",
        "message": "the service failed to answer; it is logged",
        "field": None,
        "details": [],
    }
    assert "secret detail" not in answer.text
