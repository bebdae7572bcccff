"""One error shape for every service's HTTP API:
`{"error": code, "message": text, "field": name | null, "details": [...]}`.

Validation failures list every bad field at once, each named by its path (`committed_cents`,
`header.Idempotency-Key`), so a partner's developer can fix a request in one go.
"""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic_core import ErrorDetails
from starlette.exceptions import HTTPException as StarletteHTTPException

from regia_shared.contracts.refusal import Refused


def error_body(code: str, message: str, field: str | None = None, details: list | None = None) -> dict:
    return {"error": code, "message": message, "field": field, "details": details or []}


def field_name(error: ErrorDetails, union_tags: frozenset[str] = frozenset()) -> str:
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
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        unsupported = _unsupported_media_type(request, exc)
        if unsupported is not None:
            return unsupported
        details = [{"field": field_name(e, union_tags), "message": e["msg"]} for e in exc.errors()]
        first = details[0] if details else {"field": None, "message": "invalid request"}
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return JSONResponse(error_body("validation_failed", message, first["field"], details), 422)

    @app.exception_handler(Refused)
    async def refused(_: Request, exc: Refused) -> JSONResponse:
        # A refusal that says when to come back (a locked login) says it in Retry-After too.
        retry = getattr(exc, "retry_after_s", None)
        headers = {"Retry-After": str(retry)} if retry is not None else None
        return JSONResponse(error_body(exc.code, exc.message, exc.field, exc.details), exc.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
        }.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def failed(_: Request, exc: Exception) -> JSONResponse:
        # A bug: the caller gets the one error shape too (Starlette's default is a plain
        # text page), and nothing of the exception, which the server log keeps (Starlette
        # raises it again once this answer is sent).
        return JSONResponse(error_body("internal_error", "the service failed to answer; it is logged"), 500)


# What pydantic says when a JSON route's body was not read as JSON (FastAPI hands the
# model the raw bytes when the content type is not application/json or +json).
_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type", "list_type", "union_tag_not_found"}


def _unsupported_media_type(request: Request, exc: RequestValidationError) -> JSONResponse | None:
    """415 for a body sent as something else than JSON to a route that reads JSON, rather
    than a puzzling 'Input should be a valid dictionary'."""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or (media.startswith("application/") and media.endswith("+json")):
        return None
    body_errors = [e for e in exc.errors() if tuple(e.get("loc", ()))[:1] == ("body",)]
    if not body_errors or any(len(e["loc"]) != 1 or e.get("type") not in _NOT_AN_OBJECT for e in body_errors):
        return None
    if not isinstance(body_errors[0].get("input"), bytes | str):  # it was read, as JSON
        return None
    shown = content_type[:100] or "no content type"
    return JSONResponse(
        error_body(
            "unsupported_media_type", f"send the body as JSON with Content-Type: application/json (got {shown})", "body"
        ),
        415,
    )
