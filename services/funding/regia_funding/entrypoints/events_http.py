"""Ways in over HTTP: one funding event, a batch, and an administrator's import."""

import hashlib
import json
import re
import secrets
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Body, Depends, Header, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, model_validator

from regia_shared.contracts.refusal import Refused
from regia_shared.http import fast_path
from regia_shared.http.audit import set_actor
from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool, runtime_of
from regia_shared.http.errors import error_body
from regia_shared.http.fast_path import FastPath
from regia_shared.http.ratelimit import TokenBuckets
from regia_shared.http.writes import REASON_HEADER, FundingWrite, ReasonRequired, header_reason, write_context
from regia_shared.observability.logs import bind_contextvars, get_logger
from regia_shared.writes import WriteContext, joined_reasons, record_write

from ..adapters import import_runs
from ..domain.commands import COMMAND, FundingCommand, wire
from ..domain.errors import BatchRefused, InvalidChange, KeyNotValid
from ..service_layer.group_commit import GroupCommit, record_together_then
from ..service_layer.recording import Caller, FundingRequest, Outcome
from .auth import KEY_PREFIX, caller_for_key, institution_writer
from .responses import BatchResult, BulkImportResult, FundingResult, ImportRun, SubmissionResult
from .verified_keys import VerifiedKeys

log = get_logger(__name__)
# What an Idempotency-Key or an X-Correlation-Id may be: printable ASCII without spaces. The
# route declares it and its fast path checks it (`_HEADER_TOKEN`), from these two figures.
TOKEN_CHARACTERS, TOKEN_MAX = r"\x21-\x7e", 200
IdempotencyKey = Annotated[
    str,
    Header(alias="Idempotency-Key", min_length=1, max_length=TOKEN_MAX, pattern=f"^[{TOKEN_CHARACTERS}]+$"),
]
CorrelationId = Annotated[
    str | None, Header(alias="X-Correlation-Id", max_length=TOKEN_MAX, pattern=f"^[{TOKEN_CHARACTERS}]+$")
]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=50)]
# An administrator's import names its channel: `import[:<source>]` for open years, under the
# budget window's rules; `history[:<source>]` for closed years' money, recorded as history
# (domain.rules). The rules act on the Caller's channel, so every import route holds them.
IMPORT_CHANNEL = r"^(import|history)(:[a-z0-9._-]{1,50})?$"
MAX_BULK_SUBMISSIONS, MAX_BULK_EVENTS = 5000, 20_000


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[FundingCommand] = Field(min_length=1, max_length=1000)


class Import(Batch):
    institution_id: str = Field(min_length=1, max_length=100)
    channel: str = Field(
        default="import",
        pattern=IMPORT_CHANNEL,
        description="`import` or `import:<source>` for open years; `history` or `history:<source>` for the "
        "money of closed years (before the budget window), recorded as history",
    )


class BulkRun(BaseModel):
    """The import run a bulk request belongs to: its record moves in the same transaction."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    source: str = Field(min_length=1, max_length=200, description="The name of the file the run reads")
    through: NonNegativeInt = Field(
        le=2**62, description="The row of the file sent through once this request is recorded"
    )


class BulkSubmission(BaseModel):
    """What one `POST /v1/imports/funding-events` would carry: decided exactly as it would."""

    model_config = ConfigDict(extra="forbid")
    institution_id: str = Field(min_length=1, max_length=100)
    idempotency_key: str = Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    events: list[FundingCommand] = Field(min_length=1, max_length=1000)
    tally: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")], NonNegativeInt] | None = Field(
        default=None,
        max_length=50,
        description="Cents per label (e.g. per source column) this submission records, added to the run's tally "
        "when it is accepted or replayed, to its refused_tally when it is refused",
    )


class BulkImport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(pattern=IMPORT_CHANNEL, examples=["import:opencoesione"])
    run: BulkRun | None = None
    submissions: list[BulkSubmission] = Field(min_length=1, max_length=MAX_BULK_SUBMISSIONS)

    @model_validator(mode="after")
    def _events_in_all(self) -> "BulkImport":
        total = sum(len(s.events) for s in self.submissions)
        if total > MAX_BULK_EVENTS:
            raise ValueError(f"the submissions hold {total} events; a bulk import holds at most {MAX_BULK_EVENTS}")
        return self


class EventRoutes(NamedTuple):
    router: APIRouter
    # `POST /v1/funding-events` without FastAPI's dependency solving, for the requests it can
    # answer as the route would (regia_shared.http.fast_path says why and what it keeps).
    fast_single: FastPath


def events_router(registry: CollectorRegistry, group: GroupCommit) -> EventRoutes:
    router = APIRouter(prefix="/v1", tags=["funding events"])
    accepted = Counter(
        "regia_funding_events_accepted_total", "Funding events accepted", ["type", "channel"], registry=registry
    )
    refused = Counter(
        "regia_funding_events_refused_total", "Funding events refused by a rule", ["reason"], registry=registry
    )
    throttled = Counter(
        "regia_funding_events_rate_limited_total",
        "Funding events refused because their key exceeded its rate limit",
        registry=registry,
    )
    buckets: list[TokenBuckets] = []  # one per app, made from its settings on first use
    # The keys this replica verified lately; a request's key is checked again in the
    # transaction that records it (verified_keys says why that makes the memory safe).
    memory = VerifiedKeys()
    recording_caller = institution_writer(memory)  # a key from memory, or read

    def over_limit(request: Request, caller: Caller, count: int) -> JSONResponse | None:
        """The 429 (or 413) of a key over its rate, or None: checked before anything is
        written, per institution key, in this replica's memory (regia_shared.http.ratelimit)."""
        if caller.key_id is None:
            return None  # an administrator's import is not an institution's traffic
        if not buckets:
            settings = request.app.state.settings
            buckets.append(TokenBuckets(settings.rate_per_s, settings.rate_burst))
        limit = buckets[0]
        if not limit.fits(count):
            return JSONResponse(
                error_body(
                    "batch_exceeds_rate_burst",
                    f"a batch may hold at most {limit.burst} events under this key's rate limit: split it",
                    "events",
                ),
                413,
            )
        decision = limit.take(caller.key_id, count)
        if decision.allowed:
            return None
        throttled.inc(count)
        log.info("funding events rate limited", count=count, retry_after_s=decision.retry_after_s)
        return JSONResponse(
            error_body(
                "rate_limited",
                f"this key may send {limit.rate_per_s:g} events per second "
                f"(bursts of {limit.burst}): retry in {decision.retry_after_s} s",
            ),
            429,
            headers={"Retry-After": str(decision.retry_after_s)},
        )

    async def record(
        request: Request,
        caller: Caller,
        commands: list,
        *,
        batch: bool,
        idempotency_key: str,
        correlation_id: str | None,
        write: WriteContext,
    ) -> JSONResponse:
        correlation_id = correlation_id or secrets.token_hex(16)
        bind_contextvars(correlation_id=correlation_id, institution=caller.institution_id)
        if caller.key_id is not None:
            set_actor(request, f"key:{caller.key_id}")
            write.actor = f"key:{caller.key_id}"
        write.correlation_id = correlation_id
        require_reason(write, commands)
        if (too_many := over_limit(request, caller, len(commands))) is not None:
            too_many.headers["X-Correlation-Id"] = correlation_id
            return too_many
        fingerprint = _fingerprint(commands, caller.channel)
        try:
            outcome = await group.record(
                FundingRequest(caller, commands, batch, idempotency_key, fingerprint, correlation_id, write)
            )
        except KeyNotValid as exc:  # revoked since it was verified: as if refused at the door
            if caller.key_id is not None:
                memory.forget(caller.key_id)
            log.info("funding events refused", reason="key_revoked", count=len(commands))
            return JSONResponse(error_body(exc.code, exc.message), exc.status, headers={"WWW-Authenticate": "Bearer"})
        except Refused as exc:
            refused.labels(exc.code).inc()
            log.info("funding events refused", reason=exc.code, count=len(commands))
            details = exc.details if isinstance(exc, BatchRefused) else None
            return JSONResponse(error_body(exc.code, exc.message, exc.field, details), exc.status)
        if not outcome.replayed:
            for command in commands:
                accepted.labels(command.type, caller.channel.split(":")[0]).inc()
            log.info("funding events accepted", count=len(commands))
        headers = {"X-Correlation-Id": correlation_id}
        if not batch:
            headers["Location"] = f"/v1/funding-lines/{commands[0].line_id}"
        if outcome.replayed:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(outcome.body, outcome.status, headers=headers)

    @router.post("/funding-events", status_code=202, response_model=FundingResult)
    async def post_funding_event(
        request: Request,
        command: Annotated[FundingCommand, Body()],
        idempotency_key: IdempotencyKey,
        caller: Annotated[Caller, Depends(recording_caller)],
        write: FundingWrite,
        correlation_id: CorrelationId = None,
        if_match: IfMatch = None,
    ) -> JSONResponse:
        """Record a commitment, revision, disbursement, revocation or reallocation. Its
        reason is the command's `reason` or the `X-Regia-Reason` header: one is required."""
        if if_match is not None:
            command = command.model_copy(update={"expected_version": _version(if_match, command)})
        return await record(
            request,
            caller,
            [command],
            batch=False,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            write=write,
        )

    single = router.routes[-1]
    if not (isinstance(single, APIRoute) and single.endpoint is post_funding_event):
        raise RuntimeError("the single event's route is not the one just declared")

    async def answer_single(request: Request, body: bytes) -> JSONResponse | None:
        """`post_funding_event`'s answer to a request whose every part is plainly valid: a
        JSON body that is a command, the headers the route declares within their rules and
        no If-Match, and an institution key that `caller_for_key` verifies, from memory or
        read, exactly as the route's dependency does. None for anything else, which the
        FastAPI route then answers (and refuses) itself. Nothing before the last `return
        None` has an effect of its own: `record` takes from the rate limit and records."""
        headers = request.headers
        if not _is_plain_json(headers.get("content-type")) or "if-match" in headers:
            return None
        idempotency_key = headers.get("idempotency-key")
        correlation_id = headers.get("x-correlation-id")
        if idempotency_key is None or not _HEADER_TOKEN.fullmatch(idempotency_key):
            return None
        if correlation_id is not None and not _HEADER_TOKEN.fullmatch(correlation_id):
            return None
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(KEY_PREFIX):
            return None
        try:
            reason = header_reason(headers.get(REASON_HEADER))
            command = COMMAND.validate_python(json.loads(body), from_attributes=True)
        except (ReasonRequired, ValueError):  # pydantic's ValidationError is a ValueError
            return None
        caller = await caller_for_key(runtime_of(request).pool, token, memory=memory)
        if caller is None:
            return None
        set_actor(request, f"key:{caller.key_id}")
        return await record(
            request,
            caller,
            [command],
            batch=False,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            write=write_context(request, reason),
        )

    @router.post("/funding-events/batch", status_code=202, response_model=BatchResult)
    async def post_batch(
        request: Request,
        batch: Batch,
        idempotency_key: IdempotencyKey,
        caller: Annotated[Caller, Depends(recording_caller)],
        write: FundingWrite,
        correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """Up to 1,000 events, all recorded or none: a refusal lists every refused event.
        Every event needs a reason, its own or the request's `X-Regia-Reason`."""
        return await record(
            request,
            caller,
            batch.events,
            batch=True,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            write=write,
        )

    @router.post(
        "/imports/funding-events",
        status_code=202,
        dependencies=[Depends(require_admin)],
        response_model=BatchResult,
    )
    async def post_import(
        request: Request,
        batch: Import,
        idempotency_key: IdempotencyKey,
        write: FundingWrite,
        correlation_id: CorrelationId = None,
    ) -> JSONResponse:
        """An administrator's import of one institution's events (e.g. from OpenCoesione)."""
        caller = Caller(batch.institution_id, None, channel=batch.channel, on_behalf=True)
        write.channel = "import"
        return await record(
            request,
            caller,
            batch.events,
            batch=True,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            write=write,
        )

    @router.post(
        "/imports/funding-events/bulk",
        dependencies=[Depends(require_admin)],
        response_model=BulkImportResult,
    )
    async def post_bulk_import(
        pool: DatabasePool, bulk: BulkImport, write: FundingWrite, correlation_id: CorrelationId = None
    ) -> BulkImportResult:
        """An administrator's import of many submissions in one transaction. Each submission
        is one `POST /v1/imports/funding-events` (same Idempotency-Key space, same
        fingerprint: one sent singly and again here replays) and stands or falls alone;
        the run's record, if `run` is given, moves in the same transaction."""
        correlation_id = correlation_id or secrets.token_hex(16)
        bind_contextvars(correlation_id=correlation_id)
        write.channel, write.correlation_id = "import", correlation_id
        require_reason(write, [c for s in bulk.submissions for c in s.events])
        requests = [
            FundingRequest(
                Caller(s.institution_id, None, channel=bulk.channel, on_behalf=True),
                s.events,
                True,
                s.idempotency_key,
                _fingerprint(s.events, bulk.channel),
                correlation_id,
            )
            for s in bulk.submissions
        ]

        async def advance_run(conn: Any, outcomes: list[Outcome | Refused]) -> dict[str, Any] | None:
            counts = {"accepted": 0, "replayed": 0, "refused": 0}
            events = 0
            for submission, outcome in zip(bulk.submissions, outcomes, strict=True):
                if _status(outcome) == "accepted":
                    events += len(submission.events)
            for outcome in outcomes:
                counts[_status(outcome)] += 1
            # One audit row for the whole request, with its counts (not one per event: a
            # bulk import records thousands), in the transaction that records them.
            await record_write(
                conn,
                write,
                subject=f"import-run:{bulk.run.id}" if bulk.run else f"import:{bulk.channel}",
                effect={"submissions": len(bulk.submissions), **counts, "events": events},
            )
            if bulk.run is None:
                return None
            counts = {"accepted": 0, "replayed": 0, "refused": 0}
            # What was recorded and what was refused, each in cents per label: a resumed run
            # skips the rows an earlier attempt sent, and reconciles them from these two.
            tally: dict[str, int] = {}
            refused_tally: dict[str, int] = {}
            for submission, outcome in zip(bulk.submissions, outcomes, strict=True):
                status = _status(outcome)
                counts[status] += 1
                into = refused_tally if status == "refused" else tally
                for label, cents in (submission.tally or {}).items():
                    into[label] = into.get(label, 0) + cents
            return await import_runs.advance(
                conn,
                run_id=bulk.run.id,
                channel=bulk.channel,
                source=bulk.run.source,
                through=bulk.run.through,
                counts=counts,
                tally=tally,
                refused_tally=refused_tally,
                actor="admin",  # the admin token names no one else; the audit row says the same
            )

        outcomes, run = await record_together_then(pool, requests, advance_run)
        results = []
        for submission, outcome in zip(bulk.submissions, outcomes, strict=True):
            if isinstance(outcome, Refused):
                refused.labels(outcome.code).inc()
                details = outcome.details if isinstance(outcome, BatchRefused) else None
                results.append(
                    SubmissionResult(
                        status="refused",
                        code=outcome.code,
                        message=outcome.message,
                        field=outcome.field,
                        details=details,
                    )
                )
                continue
            if not outcome.replayed:
                for command in submission.events:
                    accepted.labels(command.type, bulk.channel.split(":")[0]).inc()
            results.append(SubmissionResult(status=_status(outcome)))
        log.info(
            "bulk import recorded",
            submissions=len(requests),
            accepted=sum(r.status == "accepted" for r in results),
            replayed=sum(r.status == "replayed" for r in results),
            refused=sum(r.status == "refused" for r in results),
            run=bulk.run.id if bulk.run else None,
        )
        return BulkImportResult(results=results, run=ImportRun(**run_fields(run)) if run else None)

    return EventRoutes(router, FastPath(single, "POST", answer_single, fast_path.outcomes(registry)))


# What the route's header rules for Idempotency-Key and X-Correlation-Id accept.
_HEADER_TOKEN = re.compile(f"[{TOKEN_CHARACTERS}]{{1,{TOKEN_MAX}}}")


def _is_plain_json(content_type: str | None) -> bool:
    """`application/json`, with or without parameters: the one body type the fast path
    reads (FastAPI also reads `+json` types, and refuses a body without a content type)."""
    return content_type is not None and content_type.partition(";")[0].strip().lower() == "application/json"


def require_reason(write: WriteContext, commands: list) -> None:
    """A money write says why: the request's X-Regia-Reason, or every command its own
    `reason`; otherwise 422 reason_required and nothing is written."""
    if write.reason is not None:
        return
    missing = [i for i, c in enumerate(commands) if not (c.reason or "").strip()]
    if missing:
        where = "the event" if len(commands) == 1 else f"{len(missing)} of the events (the first at {missing[0]})"
        raise ReasonRequired(
            f"a change of money needs a reason: {where} has no `reason`, and no {REASON_HEADER} header was sent",
            REASON_HEADER,
        )
    write.reason = joined_reasons([c.reason for c in commands])


def _fingerprint(commands: list, channel: str) -> str:
    """The commands' digest, the same on every route, so one submission sent either way is one
    request. A history channel is part of it: the same events sent once as history and once
    as an open import ask for different things, and the second must be refused as a key
    reused rather than replay the first. Only history's: every other channel's fingerprint is
    as it was before history existed, so what was recorded then still replays."""
    body = json.dumps([wire(c) for c in commands], sort_keys=True)
    if channel.split(":", 1)[0] == "history":
        body = f"history\n{body}"
    return hashlib.sha256(body.encode()).hexdigest()


def _status(outcome: "Outcome | Refused") -> str:
    if isinstance(outcome, Refused):
        return "refused"
    return "replayed" if outcome.replayed else "accepted"


def run_fields(run: dict[str, Any]) -> dict[str, Any]:
    return {("id" if k == "run_id" else k): v for k, v in run.items()}


def _version(if_match: str, command: FundingCommand) -> int:
    found = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', if_match)
    if found is None:
        raise InvalidChange('If-Match must be a line version, e.g. "3"', "If-Match")
    version = int(found.group(1))
    if command.expected_version not in (None, version):
        raise InvalidChange("If-Match and expected_version disagree", "If-Match")
    return version
