"""The HTTP side of `regia_shared.writes`: a route that changes money, plans, roles or rules
takes a `WriteContext` from these dependencies and hands it to its use case.

The reason comes in the `X-Regia-Reason` header, percent-encoded UTF-8 (a browser refuses a
header value outside Latin-1, and an Italian reason has accents: `Taglio%20di%20bilancio%20
approvato%20con%20delibera%20n.%2012`), 3-500 characters once decoded. A route that requires
it answers `422 reason_required` naming the header when it is missing, blank or badly
encoded, before its use case runs: nothing is written. The dependency must come after the
one that checks the credential (a route's own `dependencies=[...]` run first; a parameter
dependency such as funding's `institution_caller` must be declared before it), so that a
request without credentials is a 401, and so that the actor is known.
"""

from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Request

from regia_shared.contracts.refusal import Refused
from regia_shared.writes import REASON_HEADER, ReasonInvalid, WriteContext, checked_reason

from .audit import ACTOR_NAME_STATE, ACTOR_STATE, REQUEST_STATE, WRITE_STATE

# REQUIRED_MARK: regia_shared.http.openapi declares the header required in the document,
# though FastAPI reads it as optional, so that a missing reason is this module's 422 and
# not FastAPI's validation error.
from .openapi import REQUIRED_MARK

_DESCRIPTION = (
    "Why this write is made, for the audit trail: percent-encoded UTF-8 (e.g. "
    "`Taglio%20approvato%20con%20delibera%20n.%2012`), 3-500 characters once decoded"
)


class ReasonRequired(Refused):
    status = 422
    code = "reason_required"


def header_reason(raw: str | None) -> str | None:
    """The decoded reason of a header value, None when absent; ReasonRequired when it is
    there but blank, too short or long, or not percent-encoded UTF-8."""
    if raw is None:
        return None
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise ReasonRequired(f"{REASON_HEADER} must be percent-encoded UTF-8", REASON_HEADER) from None
    try:
        return checked_reason(decoded)
    except ReasonInvalid as exc:
        raise ReasonRequired(f"{REASON_HEADER}: {exc}", REASON_HEADER) from None


def request_reason(request: Request) -> str | None:
    """The request's reason as the audit middleware records it: None when absent or invalid."""
    try:
        return header_reason(request.headers.get(REASON_HEADER))
    except ReasonRequired:
        return None


def write_context(request: Request, reason: str | None, channel: str = "http") -> WriteContext:
    """This request's WriteContext, remembered for the audit middleware."""
    state = request.state
    actor = getattr(state, ACTOR_STATE, None) or "anonymous"
    request_id, address = getattr(state, REQUEST_STATE, (request.headers.get("x-request-id") or "-", None))
    route = request.scope.get("route")
    status = getattr(route, "status_code", None) or 200
    write = WriteContext(
        service=request.app.state.runtime.name,
        actor=actor,
        actor_name=getattr(state, ACTOR_NAME_STATE, None),
        channel=channel,
        reason=reason,
        method=request.method,
        route=getattr(route, "path_format", None) or getattr(route, "path", None) or request.url.path,
        path=request.url.path,
        request_id=request_id,
        status=status,
        correlation_id=request.headers.get("x-correlation-id"),
        client_address=address,
    )
    setattr(state, WRITE_STATE, write)
    return write


async def _required(
    request: Request,
    reason: Annotated[
        str | None, Header(alias=REASON_HEADER, description=_DESCRIPTION, json_schema_extra={REQUIRED_MARK: True})
    ] = None,
) -> WriteContext:
    decoded = header_reason(reason)
    if decoded is None:
        raise ReasonRequired(
            f"this write changes money, plans, roles or rules: say why in {REASON_HEADER}", REASON_HEADER
        )
    return write_context(request, decoded)


async def _optional(
    request: Request,
    reason: Annotated[
        str | None,
        Header(
            alias=REASON_HEADER,
            description=_DESCRIPTION + "; required unless every command carries its own `reason`",
        ),
    ] = None,
) -> WriteContext:
    return write_context(request, header_reason(reason))


# A write that needs a reason in the header.
ReasonedWrite = Annotated[WriteContext, Depends(_required)]
# A funding write: the reason may be the header's or each command's own (the route checks).
FundingWrite = Annotated[WriteContext, Depends(_optional)]
# A write audited in its transaction whose reason is welcome but not required (a lead's
# measurement carries its source; a milestone marked reached says so itself).
OptionalReasonWrite = FundingWrite
