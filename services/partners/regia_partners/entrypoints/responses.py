"""What every partners route shares: path and header parameters, and the shapes of answers."""

import secrets
from datetime import date
from typing import Annotated

from fastapi import Header, Path, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from regia_shared.observability.logs import bind_contextvars

from ..domain.commands import ID_PATTERN
from ..service_layer.outcome import Outcome

PathId = Annotated[str, Path(min_length=1, max_length=100, pattern=ID_PATTERN)]
QueryId = Annotated[str | None, Query(min_length=1, max_length=100, pattern=ID_PATTERN)]
CorrelationId = Annotated[str | None, Header(max_length=200)]
# Search text: matched as a plain string anywhere in a name, case-insensitively.
SearchText = Annotated[str | None, Query(max_length=300)]
# A territory to match whole, case-insensitively.
TerritoryText = Annotated[str | None, Query(max_length=200)]
OnDay = Annotated[date | None, Query(description="YYYY-MM-DD; today when not given")]


def search_text(q: str | None) -> str | None:
    return q.strip() or None if q else None


def correlation(header: str | None) -> str:
    correlation_id = header or secrets.token_hex(16)
    bind_contextvars(correlation_id=correlation_id)
    return correlation_id


def answer(outcome: Outcome, body: dict, location: str) -> JSONResponse:
    status = 201 if outcome.created else 200
    body = {**body, "event_id": str(outcome.event_id) if outcome.event_id else None}
    return JSONResponse(jsonable_encoder(body), status, headers={"Location": location})


def changed(outcome: Outcome, body: dict) -> JSONResponse:
    """200 either way; `changed` tells whether this request changed anything."""
    body = {**body, "changed": outcome.created, "event_id": str(outcome.event_id) if outcome.event_id else None}
    return JSONResponse(jsonable_encoder(body), 200)
