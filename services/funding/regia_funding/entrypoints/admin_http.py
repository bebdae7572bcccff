"""Administrators' HTTP API: institution keys, instruments, the budget window and the
year-end roll-over, and the ledger check. Administrators write, observers read; an
institution's keys are also its officers' to issue, list and revoke (their own only)."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field

from regia_shared.http.auth import STAFF, Principal, hash_secret
from regia_shared.http.dependencies import DatabasePool, Runtime
from regia_shared.http.writes import ReasonedWrite
from regia_shared.observability.logs import get_logger
from regia_shared.writes import record_write

from ..adapters import institutions, lines, references
from ..domain import replay
from ..domain.commands import InstrumentId
from ..service_layer.year_end import roll_over_year
from .auth import KEY_KEEPERS, format_key, own_institution
from .responses import (
    BudgetWindow,
    Institution,
    Instrument,
    KeyInfo,
    KeyIssued,
    KnownObjective,
    LedgerVerification,
    RollOverResult,
)

log = get_logger(__name__)


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, max_length=200)
    instruments: list[InstrumentId] | None = Field(
        default=None, min_length=1, max_length=100, description="Limit the key to these instruments of its institution"
    )


class InstrumentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instrument_id: InstrumentId
    institution_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    kind: str = Field(default="budget", pattern=r"^(budget|programme|fund|private)$")


class RollOverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    closing_year: int = Field(ge=1990, le=2100)


Keeper = Annotated[Principal, Depends(KEY_KEEPERS)]


def admin_router() -> APIRouter:
    # Two routers, each with the whole prefix (a route's template, which the audit records,
    # is what its own router made of it): the keys, and the rest (administrators and observers).
    router = APIRouter(prefix="/v1", tags=["administration"])
    staff = APIRouter(prefix="/v1", tags=["administration"], dependencies=[Depends(STAFF)])

    @router.post("/institutions/{institution_id}/keys", status_code=201)
    async def issue_key(
        pool: DatabasePool, keeper: Keeper, institution_id: str, body: KeyRequest | None = None
    ) -> KeyIssued:
        """Issue an API key for an institution (an administrator, or one of its officers).
        The key is shown once and never stored."""
        own_institution(keeper, institution_id)
        body = body or KeyRequest()
        key_id = secrets.token_hex(6)
        key = format_key(key_id, secrets.token_urlsafe(32))
        async with pool.acquire() as conn, conn.transaction():
            if not await institutions.exists(conn, institution_id):
                raise HTTPException(
                    404,
                    detail=f"no institution {institution_id!r} is registered "
                    "as a funder (register it in the partners service with a level)",
                )
            for instrument_id in body.instruments or []:
                found = await references.instrument_row(conn, instrument_id)
                if found is None or found["institution_id"] != institution_id:
                    raise HTTPException(422, detail=f"instrument {instrument_id!r} is not one of {institution_id!r}'s")
            await institutions.add_key(conn, key_id, institution_id, hash_secret(key), body.label, body.instruments)
        log.info("api key issued", institution=institution_id, key_id=key_id)
        return KeyIssued(key_id=key_id, institution_id=institution_id, instruments=body.instruments, key=key)

    @router.get("/institutions/{institution_id}/keys")
    async def list_keys(pool: DatabasePool, keeper: Keeper, institution_id: str) -> list[KeyInfo]:
        own_institution(keeper, institution_id)
        async with pool.acquire() as conn:
            return [KeyInfo(**k) for k in await institutions.keys_of(conn, institution_id)]

    @router.delete("/keys/{key_id}", status_code=204)
    async def revoke_key(pool: DatabasePool, keeper: Keeper, key_id: str) -> Response:
        async with pool.acquire() as conn:
            row = await institutions.key(conn, key_id)
            if row is not None:
                own_institution(keeper, row["institution_id"])
            if not await institutions.revoke_key(conn, key_id):
                raise HTTPException(404, detail=f"no active key {key_id!r}")
        log.info("api key revoked", key_id=key_id)
        return Response(status_code=204)

    @staff.get("/institutions")
    async def list_institutions(pool: DatabasePool) -> list[Institution]:
        async with pool.acquire() as conn:
            return [Institution(**i) for i in await institutions.all_institutions(conn)]

    @staff.post("/instruments", status_code=201)
    async def add_instrument(
        pool: DatabasePool, body: InstrumentRequest, response: Response, write: ReasonedWrite
    ) -> Instrument:
        """Declare an instrument (a budget, a programme, a fund) of a source institution."""
        async with pool.acquire() as conn, conn.transaction():
            if not await institutions.exists(conn, body.institution_id):
                raise HTTPException(404, detail=f"no institution {body.institution_id!r}")
            if not await references.add_instrument(conn, body.instrument_id, body.institution_id, body.name, body.kind):
                held = await references.instrument_row(conn, body.instrument_id)
                if held != body.model_dump():
                    raise HTTPException(409, detail=f"instrument {body.instrument_id!r} exists with other data")
                response.status_code = write.status = 200
            await record_write(
                conn, write, subject=f"instrument:{body.instrument_id}", effect={"declared": write.status == 201}
            )
        return Instrument(**body.model_dump())

    @staff.get("/instruments")
    async def list_instruments(pool: DatabasePool, institution_id: str | None = None) -> list[Instrument]:
        async with pool.acquire() as conn:
            return [Instrument(**i) for i in await references.instruments(conn, institution_id)]

    @staff.get("/objectives/{objective_id}")
    async def known_objective(pool: DatabasePool, objective_id: str) -> KnownObjective:
        """Whether funding knows an objective yet (it learns them from objective events)."""
        async with pool.acquire() as conn:
            found = await references.objective(conn, objective_id)
        if found is None:
            raise HTTPException(404, detail=f"funding does not know objective {objective_id!r} (yet)")
        return KnownObjective(**found)

    @staff.get("/budget-window")
    async def get_window(pool: DatabasePool) -> BudgetWindow:
        async with pool.acquire() as conn:
            window = await references.window(conn)
        return BudgetWindow(first_year=window.first_year, last_year=window.last_year)

    @staff.post("/budget-window/roll-over")
    async def roll_over(
        pool: DatabasePool,
        runtime: Runtime,
        body: RollOverRequest,
        write: ReasonedWrite,
        correlation_id: Annotated[str | None, Header(alias="X-Correlation-Id")] = None,
    ) -> RollOverResult:
        """Close the window's first year, once it has ended: undisbursed money moves to the
        same owner's line in the next year (`redirected` lists rests that went to a
        `rollover:` line because their usual next-year id was held by another line)."""
        correlation_id = correlation_id or secrets.token_hex(16)
        write.channel, write.correlation_id = "year-end", correlation_id
        done = await roll_over_year(pool, body.closing_year, correlation_id, runtime.settings.fiscal_today(), write)
        log.info(
            "year rolled over",
            year=done.closed_year,
            lines=done.lines_rolled,
            cents=done.cents_rolled,
            redirected=len(done.redirected),
        )
        return RollOverResult.model_validate(
            {
                "closed_year": done.closed_year,
                "lines_rolled": done.lines_rolled,
                "cents_rolled": done.cents_rolled,
                "window": {"first_year": done.window.first_year, "last_year": done.window.last_year},
                "redirected": [
                    {"line_id": r.line_id, "to_line_id": r.to_line_id, "because": r.because} for r in done.redirected
                ],
            }
        )

    @staff.get("/ledger/verify")
    async def verify(pool: DatabasePool) -> LedgerVerification:
        """Rebuild every line from the ledger alone and compare with what is held; and list
        money that changed owner on its way (`owner_changes`: a reallocation or roll-over
        between two institutions, instruments or objectives, sides that do not balance, an
        entry pushed by another institution than the line's)."""
        async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            rebuilt = replay.fold(await lines.all_entries(conn))
            held = await lines.all_lines(conn)
            changed = replay.owner_changes(
                await lines.moves(conn), await lines.owners(conn), await lines.pushed_by_another(conn)
            )
        diffs = replay.differences(rebuilt, held)
        return LedgerVerification.model_validate(
            {
                "lines": len(held),
                "consistent": not diffs and not changed,
                "differences": diffs[:100],
                "owner_changes": changed[:100],
            }
        )

    both = APIRouter()
    both.include_router(router)
    both.include_router(staff)
    return both
