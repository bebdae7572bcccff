"""The OpenAPI document every service serves says what the service really does.

FastAPI's own document is right about success answers (once routes declare their models)
and wrong about errors: it documents a 422 shaped `{"detail": [...]}` (HTTPValidationError)
that no Regia service ever sends, and no other error at all. Every Regia error has one
shape, `regia_shared.http.errors.error_body`:

    {"error": "validation_failed", "message": "...", "field": "objective" | null, "details": [...]}

so the document is rewritten, once, after FastAPI generates it:
- `ErrorBody` (the model below) is the schema of every 4xx and 5xx answer a route declares
  without one of its own, and FastAPI's HTTPValidationError and ValidationError are gone;
- each operation lists the errors every route of its kind can give: 422 (any operation: an
  unknown query parameter, query_params), 500 (any), 401 (one that needs a credential),
  404 (one with a path parameter), 413 and 415 (one that reads a body), 429 (a write, which
  an anonymous caller over its allowance is refused, audit).

The credentials are declared as security schemes by the dependencies that read them
(`regia_shared.http.auth`: ADMIN_TOKEN, INSTITUTION_KEY, PREFERENCE_LINK), so an operation
lists exactly the credentials its route checks, and FastAPI puts them in the document.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from .access import document_access

REQUIRED_MARK = "x-regia-required"  # regia_shared.http.writes marks a header it requires

ERROR_SCHEMA = "ErrorBody"
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
_WRITES = {"post", "put", "patch", "delete"}
_METHODS = {"get", "head", "options", *_WRITES}


class ErrorDetail(BaseModel):
    """One problem of a refused request; a batch refusal adds the item's `index` and code."""

    model_config = ConfigDict(extra="allow")

    field: str | None = Field(description="The field at fault, as the caller wrote it (dotted path)")
    message: str


class ErrorBody(BaseModel):
    """Every error answer of every Regia service."""

    error: str = Field(description="A stable code: validation_failed, unauthorized, not_found, conflict, ...")
    message: str = Field(description="What was wrong, for a person")
    field: str | None = Field(description="The field (or query parameter) at fault, when one is")
    details: list[ErrorDetail] = Field(description="Every problem, when several were found at once")


# The errors every operation of a kind can answer, with what they mean.
_COMMON = {"422": "Invalid input (a field, a query parameter that is not one of this endpoint's)", "500": "A bug"}
_SECURED = {"401": "Missing or invalid credentials"}
_WITH_PATH = {"404": "No such resource"}
_WITH_BODY = {"413": "Body too large", "415": "Body not sent as JSON"}
_WRITE = {"429": "Too many refused requests without valid credentials from this address"}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}},
    }


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).endswith("/HTTPValidationError")


def with_error_shape(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` (FastAPI's document) with the error answers described above."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas[ERROR_SCHEMA] = error_schema
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    for item in doc.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            expected = dict(_COMMON)
            if operation.get("security"):
                expected |= _SECURED
            if any(p.get("in") == "path" for p in operation.get("parameters", [])):
                expected |= _WITH_PATH
            if "requestBody" in operation:
                expected |= _WITH_BODY
            if method in _WRITES:
                expected |= _WRITE
            for parameter in operation.get("parameters", []):
                # A header a dependency reads as optional, to answer its absence with its own
                # error (regia_shared.http.writes: reason_required), but the route requires.
                if parameter.get("schema", {}).pop(REQUIRED_MARK, False):
                    parameter["required"] = True
                    expected["422"] = _COMMON["422"] + "; reason_required: no valid X-Regia-Reason"
            for status, description in expected.items():
                if status not in responses or _is_fastapi_validation(responses[status]):
                    responses[status] = _error_response(description)
            for status, response in responses.items():
                if status[:1] in {"4", "5"} and not response.get("content"):
                    responses[status] = _error_response(response.get("description") or "Error")
    return doc


def install_openapi(app: FastAPI) -> None:
    """Serve `with_error_shape` of FastAPI's document, built on first request (routes are
    added to the app after the runtime builds it)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = document_access(with_error_shape(doc), app)
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented way to replace it
