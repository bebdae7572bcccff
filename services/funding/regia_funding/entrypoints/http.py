"""The funding service's HTTP API."""

import hashlib
import secrets
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from pydantic import BaseModel, Field

from regia_shared.auth import hash_secret, require_admin
from regia_shared.errors import error_body
from regia_shared.logs import bind_contextvars, get_logger

from ..adapters import institutions, lines
from ..domain.commands import FundingCommand
from ..domain.errors import FundingError
from ..handlers import Caller, record_funding_event
from .auth import format_key, institution_caller, institution_or_admin

log = get_logger(__name__)
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                       pattern=r"^[\x21-\x7e]+$")]


def funding_router(registry) -> APIRouter:  # type: ignore[no-untyped-def]
    router = APIRouter(prefix="/v1")
    accepted = Counter("regia_funding_events_accepted_total", "Funding events accepted",
                       ["type", "channel"], registry=registry)
    refused = Counter("regia_funding_events_refused_total", "Funding events refused by a rule",
                      ["reason"], registry=registry)

    @router.post("/funding-events", status_code=202, tags=["funding"])
    async def post_funding_event(
        request: Request,
        command: Annotated[FundingCommand, Body()],
        idempotency_key: IdempotencyKey,
        caller: Annotated[Caller, Depends(institution_caller)],
        x_correlation_id: Annotated[str | None, Header(max_length=200)] = None,
    ) -> Response:
        """Record a commitment, a revision or a revocation of one of your lines."""
        runtime = request.app.state.runtime
        settings = request.app.state.settings
        correlation_id = x_correlation_id or secrets.token_hex(16)
        bind_contextvars(correlation_id=correlation_id, institution=caller.institution_id)
        request_sha256 = hashlib.sha256(command.model_dump_json().encode()).hexdigest()
        try:
            outcome = await record_funding_event(
                runtime.pool, caller, command, idempotency_key=idempotency_key,
                request_sha256=request_sha256, correlation_id=correlation_id,
                years=range(settings.min_fiscal_year, settings.max_fiscal_year + 1))
        except FundingError as exc:
            refused.labels(exc.code).inc()
            log.info("funding event refused", reason=exc.code, line_id=command.line_id)
            return JSONResponse(error_body(exc.code, exc.message, exc.field), exc.status)
        if not outcome.replayed:
            accepted.labels(command.type, caller.channel).inc()
            log.info("funding event accepted", line_id=command.line_id, type=command.type,
                     event_id=outcome.body.get("event_id"))
        headers = {"Location": f"/v1/funding-lines/{command.line_id}",
                   "X-Correlation-Id": correlation_id}
        if outcome.replayed:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(outcome.body, outcome.status, headers=headers)

    @router.get("/funding-lines/{line_id}", tags=["funding"])
    async def get_line(request: Request, line_id: str,
                       caller: Annotated[Caller | None, Depends(institution_or_admin)]) -> dict:
        """A line and its full ledger history (your own lines, or any line for an admin)."""
        async with request.app.state.runtime.pool.acquire() as conn:
            line = await lines.get(conn, line_id)
            if line is None or (caller is not None and line.institution_id != caller.institution_id):
                # Another institution's line is reported as absent: ids are not disclosed.
                raise HTTPException(404, detail=f"no funding line {line_id!r}")
            history = await lines.history(conn, line_id)
        return {
            "line_id": line.line_id, "institution_id": line.institution_id, "level": line.level,
            "objective_id": line.objective_id, "fiscal_year": line.fiscal_year,
            "committed_cents": line.committed_cents, "disbursed_cents": line.disbursed_cents,
            "version": line.version, "status": line.status, "history": history,
        }

    return router


class KeyRequest(BaseModel):
    label: str | None = Field(default=None, max_length=200)


def keys_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["keys"], dependencies=[Depends(require_admin)])

    @router.post("/institutions/{institution_id}/keys", status_code=201)
    async def issue_key(request: Request, institution_id: str, body: KeyRequest | None = None) -> dict:
        """Issue an API key for an institution. The key is shown once and never stored."""
        key_id = secrets.token_hex(6)
        key = format_key(key_id, secrets.token_urlsafe(32))
        async with request.app.state.runtime.pool.acquire() as conn:
            if not await institutions.exists(conn, institution_id):
                raise HTTPException(404, detail=f"no institution {institution_id!r} is registered "
                                    "as a funder (register it in the partners service with a level)")
            await institutions.add_key(conn, key_id, institution_id, hash_secret(key),
                                       body.label if body else None)
        log.info("api key issued", institution=institution_id, key_id=key_id)
        return {"key_id": key_id, "institution_id": institution_id, "key": key}

    @router.get("/institutions/{institution_id}/keys")
    async def list_keys(request: Request, institution_id: str) -> list[dict]:
        async with request.app.state.runtime.pool.acquire() as conn:
            return await institutions.keys_of(conn, institution_id)

    @router.delete("/keys/{key_id}", status_code=204)
    async def revoke_key(request: Request, key_id: str) -> Response:
        async with request.app.state.runtime.pool.acquire() as conn:
            if not await institutions.revoke_key(conn, key_id):
                raise HTTPException(404, detail=f"no active key {key_id!r}")
        log.info("api key revoked", key_id=key_id)
        return Response(status_code=204)

    @router.get("/institutions")
    async def list_institutions(request: Request) -> list[dict]:
        async with request.app.state.runtime.pool.acquire() as conn:
            return await institutions.all_institutions(conn)

    return router
