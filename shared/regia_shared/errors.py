"""One error shape for every service's HTTP API:
`{"error": code, "message": text, "field": name | null, "details": [...]}`.

Validation failures list every bad field at once, each named by its path (`committed_cents`,
`header.Idempotency-Key`), so a partner's developer can fix a request in one go.
"""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .refusal import Refused


def error_body(code: str, message: str, field: str | None = None, details: list | None = None) -> dict:
    return {"error": code, "message": message, "field": field, "details": details or []}


def field_name(error: dict, union_tags: frozenset[str] = frozenset()) -> str:
    """The dotted path of the field a pydantic error is about, as a caller wrote it."""
    parts = [str(p) for p in error["loc"]]
    if error.get("type") in {"union_tag_invalid", "union_tag_not_found"}:
        # A wrong or missing discriminator: name the tag field itself.
        parts.append(str(error.get("ctx", {}).get("discriminator", "type")).strip("'"))
    if parts and parts[0] == "body":
        parts = parts[1:]
    # A discriminated union adds the tag ("commitment") to the path: drop it, wherever the
    # union sits (the body itself, or an item of a batch).
    parts = [p for p in parts if p not in union_tags]
    return ".".join(parts) or "body"  # the whole body: invalid JSON, or not an object


def install_error_handlers(app: FastAPI, union_tags: frozenset[str] = frozenset()) -> None:
    """`union_tags`: the discriminator values of request bodies that are tagged unions,
    which pydantic puts in an error's path and a caller would not recognise as a field."""
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"field": field_name(e, union_tags), "message": e["msg"]} for e in exc.errors()]
        first = details[0] if details else {"field": None, "message": "invalid request"}
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return JSONResponse(error_body("validation_failed", message, first["field"], details), 422)

    @app.exception_handler(Refused)
    async def refused(_: Request, exc: Refused) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.field, exc.details), exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                409: "conflict"}.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)
