"""An unknown query parameter is refused, on every route of every service.

Why: FastAPI ignores a query parameter no route declares, so a misspelt filter
(`GET /v1/totals?objective=miglio-blu`, where the route takes `objective_id`) answered as if
no filter had been given, the whole instance, and a client could not tell. Here the
request's query keys are compared with what the matched route declares, its dependencies'
parameters included (the paging `limit` and `cursor`), and any other key is a 422 naming it
and listing what the endpoint takes:

    {"error": "validation_failed", "field": "objective",
     "message": "unknown query parameter 'objective'; this endpoint takes: as_of, by, ..."}

A parameter declared as a list may be repeated (`?by=level&by=year`): the check is on
names, never on how often one comes.

Installed as an application-wide dependency (ServiceRuntime.http_app), so it runs for every
route however it was included, first among the route's dependencies: a caller learns of a
misspelt parameter before anything else is checked or done.
"""

from types import UnionType
from typing import Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from regia_shared.contracts.refusal import Refused

_CACHE_ATTRIBUTE = "_regia_query_parameters"


class UnknownQueryParameter(Refused):
    status = 422
    code = "validation_failed"


def declared_query_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameter names a route takes, by their alias (what a caller writes),
    its dependencies' included. Computed once per route: the dependency tree never
    changes once the app is built."""
    cached: frozenset[str] | None = getattr(route, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    names: set[str] = set()
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        for param in dependant.query_params:
            model = _model_of(param.field_info.annotation)
            if model is not None:
                # A model of query parameters (`Annotated[Model, Query()]`): its fields.
                names.update(f.alias or n for n, f in model.model_fields.items())
            else:
                names.add(param.alias)
        pending.extend(dependant.dependencies)
    found = frozenset(names)
    setattr(route, _CACHE_ATTRIBUTE, found)
    return found


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model a parameter is annotated with, `| None` aside, or None."""
    candidates = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
    return models[0] if len(models) == 1 else None


async def refuse_unknown_query_parameters(request: Request) -> None:
    """FastAPI dependency: 422 naming the first query parameter the matched route does
    not declare. Async on purpose: a sync dependency would go through the thread pool on
    every request of every service."""
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = declared_query_parameters(route)
    # Cut to a readable length: the name is echoed back, and a caller may send anything.
    unknown = [k[:100] for k in dict.fromkeys(request.query_params.keys()) if k not in allowed]
    if not unknown:
        return
    takes = f"takes: {', '.join(sorted(allowed))}" if allowed else "takes no query parameters"
    refusal = UnknownQueryParameter(f"unknown query parameter {unknown[0]!r}; this endpoint {takes}", unknown[0])
    refusal.details = [{"field": k, "message": "unknown query parameter"} for k in unknown]
    raise refusal
