"""The Kafka way in for institutions: `regia.funding.inbound.v1`.

A message is one funding command in the JSON of `POST /v1/funding-events`, with the
institution's key in an `authorization: Bearer …` header and an `idempotency-key` header.
It goes through the very same authentication, validation and use case as HTTP. A batch
of messages is ONE transaction, decided set-based with each message a request of its own
(`service_layer.recording.record_requests`): a refused message leaves no trace and the others of its batch
still commit together, then the offsets. Its Idempotency-Key record makes a redelivery after a
crash change nothing. A message that is refused (bad key, bad JSON, a broken rule) goes to
`regia.funding.inbound.rejected.v1` with the reason and the original message (without its
key), once its batch has committed, and the partition moves on. Any other failure rolls
the whole batch back and rewinds it: a transient one (the database away, a deadlock with a
concurrent request) for as long as it lasts; one that is not (a bug, a constraint the rules
missed) at most REGIA_CONSUMER_MAX_ATTEMPTS times in a row, after which the batch is
taken message by message, each in its own transaction, and a message that still fails
alone is rejected (`unprocessable`, with the error) like a refused one: one message can
never stop its partition, and the institution is told which one failed.

Every rejection is also kept in `inbound_rejections` (migration 0011), in the transaction
that decided it (for `unprocessable`, the one that records that verdict), with the
institution whose key verified (none when the key did not) and the key's id: institutions
read their own there (GET /v1/inbound/rejections), while the rejected topic, which holds
every institution's, is for operators only (the broker's ACLs deny it to institutions).
The rejected topic is funding's, so what is published there is signed like funding's
events (regia_shared.messaging.signing).
"""

import asyncio
import base64
import contextlib
import hashlib
import json
import re
import secrets
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord
from faststream import AckPolicy, Context
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from regia_shared.contracts import topics
from regia_shared.contracts.refusal import Refused
from regia_shared.http.apidocs import MessageDoc
from regia_shared.http.errors import field_name
from regia_shared.http.limits import repeated_key, repeated_key_message
from regia_shared.messaging import signing
from regia_shared.messaging.consumer import (
    Polling,
    Strikes,
    offset_commits,
    raw_batch,
    transient,
    without_idle_sleep,
)
from regia_shared.observability.logs import get_logger
from regia_shared.runtime import ServiceRuntime
from regia_shared.writes import ReasonInvalid, WriteContext, checked_reason

from ..adapters import inbound_rejections
from ..domain.commands import COMMAND, COMMAND_TYPES, wire
from ..domain.errors import BatchRefused
from ..service_layer.recording import Caller, FundingRequest, Outcome, record_requests
from .auth import KEY_PREFIX, caller_for_key

log = get_logger(__name__)
CHANNEL = "kafka"
RETRY_PAUSE_S = 1.0  # after a failed batch, before it is redelivered
# A key id as funding issues them; a claimed one that is not is not stored (it is the sender's text).
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class InboundHeaders(BaseModel):
    """The headers of an inbound funding command (names are matched without regard to case)."""

    # For the AsyncAPI document only: `_request` reads the headers itself, refusing each
    # missing or bad one with its own reason.

    model_config = ConfigDict(title="FundingInboundHeaders")

    authorization: str = Field(
        description="`Bearer <key>`: the institution's API key, the same as over HTTP; never copied into a rejection",
        examples=["Bearer rgk_0123456789ab.secret"],
    )
    idempotency_key: str = Field(
        alias="idempotency-key",
        min_length=1,
        max_length=200,
        description="1-200 printable characters: the same key sent again replays, in the single-event "
        "space it shares with POST /v1/funding-events",
    )
    correlation_id: str | None = Field(
        default=None,
        alias="correlation-id",
        max_length=200,
        description="Carried into the ledger entries and the events; one is made when absent",
    )
    reason: str | None = Field(
        default=None,
        alias="x-regia-reason",
        min_length=3,
        max_length=500,
        description="Why, for the audit trail (UTF-8, 3-500 characters): required unless the command "
        "carries its own `reason`; a message with neither is rejected with `reason_required`",
    )


def message_doc() -> MessageDoc:
    """The inbound topic as AsyncAPI shows it: one funding command per message, in the JSON
    of POST /v1/funding-events, and the headers above."""
    payload = COMMAND.json_schema()
    payload["title"] = "FundingCommand"
    return MessageDoc(
        payload=payload,
        headers=InboundHeaders.model_json_schema(by_alias=True),
        key={
            "type": "string",
            "description": "Chosen by the sender (e.g. the line id); not read, only echoed in a rejection",
        },
        description="Institutions' funding commands: one command per message, the JSON of "
        "POST /v1/funding-events, with the institution's key and an Idempotency-Key in the headers. "
        f"A refused message goes to {topics.FUNDING_INBOUND_REJECTED} with the reason.",
    )


# Not a domain refusal (so not in domain/errors.py): the Kafka way in's record of why a message
# goes to the rejected topic, be it a domain refusal it wraps or a transport fault (no key, bad JSON).
class Rejected(Exception):
    def __init__(self, error: str, message: str, field: str | None = None, details: list | None = None) -> None:
        super().__init__(message)
        self.error, self.message, self.field, self.details = error, message, field, details or []
        # Whose message it was: the institution whose key verified (None if none did).
        self.institution_id: str | None = None

    def of(self, caller: Caller | None) -> "Rejected":
        self.institution_id = caller.institution_id if caller is not None else None
        return self


# A refused message, the rejection as it is kept and published (the same bytes).
Refusal = tuple[ConsumerRecord, Rejected, bytes]


def register(runtime: ServiceRuntime) -> None:
    accepted = Counter(
        "regia_funding_inbound_accepted_total", "Inbound Kafka funding events accepted", registry=runtime.registry
    )
    rejected = Counter(
        "regia_funding_inbound_rejected_total",
        "Inbound Kafka funding events rejected",
        ["reason"],
        registry=runtime.registry,
    )

    polling = Polling.of(runtime.settings)
    strikes = Strikes()
    commits = offset_commits(runtime.broker, "funding.inbound", polling)

    @without_idle_sleep(
        runtime.broker.subscriber(
            topics.FUNDING_INBOUND,
            group_id="funding.inbound",
            batch=True,
            # REGIA_CONSUMER_BATCH_MAX, as every consumer: a batch is decided set-based (about
            # ten statements whatever its size) and holds its lines' locks, which concurrent HTTP
            # requests on the same lines wait for, for the batch's tens of milliseconds.
            max_records=polling.batch_max,
            auto_offset_reset="earliest",
            # The handler acks (commits, every so often: offset_commits) or nacks each batch itself.
            ack_policy=AckPolicy.MANUAL,
            **polling.options(),
            title="funding.inbound",
            decoder=raw_batch,
        ),
        commits,
    )
    async def handle(body: Any, message: Any = Context("message")) -> None:
        await commits.handled(message, handle_records(body))  # raw_batch's records, unvalidated (Any)

    async def handle_records(records: Sequence[ConsumerRecord]) -> None:
        starts = strikes.starts(records)
        try:
            if (tried := strikes.times(starts)) >= polling.max_attempts:
                refused = await _one_by_one(runtime, records, tried)
            else:
                refused = await _in_one_transaction(runtime, records)
        except Exception as exc:
            # Nothing committed: the batch is rewound (nack) and the Idempotency-Keys make
            # what commits later count once. A pause, so a failing batch does not spin.
            is_transient = transient(exc)
            times = strikes.times(starts) if is_transient else strikes.failed(starts)
            log.warning(
                "inbound batch failed, will be redelivered",
                records=len(records),
                error=repr(exc),
                transient=is_transient,
                failures=times,
                split_after=polling.max_attempts,
            )
            await asyncio.sleep(RETRY_PAUSE_S)
            raise
        # Counted and published only once the batch has committed: a batch that rolled back
        # is redelivered, and counted then.
        accepted.inc(len(records) - len(refused))
        for record, refusal, rejection in refused:
            rejected.labels(refusal.error).inc()
            log.info(
                "inbound funding event rejected",
                error=refusal.error,
                field=refusal.field,
                partition=record.partition,
                offset=record.offset,
            )
            await runtime.broker.publish(
                rejection,
                topic=topics.FUNDING_INBOUND_REJECTED,
                key=record.key,
                headers={
                    "content-type": "application/json",
                    "error": refusal.error,
                    signing.HEADER: runtime.event_keys.sign(
                        "funding", topics.FUNDING_INBOUND_REJECTED, record.key, rejection
                    ),
                },
            )
        strikes.cleared(starts)  # only now: a failed publish redelivers the batch, split again


async def _in_one_transaction(runtime: ServiceRuntime, records: Sequence[ConsumerRecord]) -> list[Refusal]:
    """Decide and record every message of the batch in ONE transaction, the refused ones'
    rejections with them; the refused ones. Any exception but a refusal escapes, rolling
    the whole batch back (its rejections too)."""
    refused: list[tuple[ConsumerRecord, Rejected]] = []
    async with runtime.pool.acquire() as conn, conn.transaction():
        callers: dict[str, Caller | None] = {}
        requests: list[tuple[ConsumerRecord, FundingRequest]] = []
        for record in records:
            try:
                requests.append((record, await _request(_BatchConnection(conn), record, callers)))
            except Rejected as refusal:
                refused.append((record, refusal))
        outcomes: list[Outcome | Refused] = await record_requests(conn, [r for _, r in requests])
        refused.extend(
            (record, _rejected(outcome).of(request.caller))
            for (record, request), outcome in zip(requests, outcomes, strict=True)
            if isinstance(outcome, Refused)
        )
        return await _kept(conn, refused)


async def _kept(conn: asyncpg.Connection, refused: Sequence[tuple[ConsumerRecord, Rejected]]) -> list[Refusal]:
    """Each rejection made once, stored in the caller's transaction, returned to be published."""
    made = [(record, refusal, _rejection(record, refusal)) for record, refusal in refused]
    await inbound_rejections.add(
        conn,
        [
            inbound_rejections.NewRejection(refusal.institution_id, _key_id(record), refusal.error, rejection.decode())
            for record, refusal, rejection in made
        ],
    )
    return made


def _token(record: ConsumerRecord) -> str:
    headers = {k.lower(): v.decode(errors="replace") for k, v in (record.headers or ())}
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _key_id(record: ConsumerRecord) -> str | None:
    """The id of the key the message carried, verified or not; never its secret."""
    token = _token(record)
    key_id, dot, _ = token.removeprefix(KEY_PREFIX).partition(".")
    return key_id if token.startswith(KEY_PREFIX) and dot and _KEY_ID.match(key_id) else None


async def _one_by_one(runtime: ServiceRuntime, records: Sequence[ConsumerRecord], tried: int) -> list[Refusal]:
    """A batch that failed `tried` times: each message in its own transaction, in order, so
    the healthy ones are recorded and one that still fails alone is rejected with its
    error. A transient failure still escapes: the batch is redelivered and split again, and
    the Idempotency-Keys make what was recorded already count once."""
    refused: list[Refusal] = []
    for record in records:
        try:
            refused.extend(await _in_one_transaction(runtime, [record]))
        except Exception as exc:
            if transient(exc):
                raise
            log.error(
                "inbound funding event failed alone: rejected",
                partition=record.partition,
                offset=record.offset,
                error=repr(exc),
            )
            # The institution reads the rejection: it gets what failed and where, not the
            # service's internals (the full error is in the log, at this partition and offset).
            unprocessable = Rejected(
                "unprocessable",
                f"the service failed to record this message {tried} times in its batch, "
                f"then alone ({type(exc).__name__}); it was set aside so that the messages behind it go "
                "on, and nothing of it was recorded: send it again once the operators have fixed the cause",
            )
            # Its own transaction: the one that failed recorded nothing, this verdict included.
            async with runtime.pool.acquire() as conn, conn.transaction():
                unprocessable.of(await caller_for_key(_BatchConnection(conn), _token(record), CHANNEL))
                refused.extend(await _kept(conn, [(record, unprocessable)]))
    return refused


class _BatchConnection:
    """Stands in for the pool so that the key lookup runs on the batch's connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        yield self._conn


async def _request(pool: _BatchConnection, record: ConsumerRecord, callers: dict[str, Caller | None]) -> FundingRequest:
    """The request a message makes, or `Rejected` for one that is not even that (with the
    institution whose key verified, if one did)."""
    headers = {k.lower(): v.decode(errors="replace") for k, v in (record.headers or ())}
    token, caller = _token(record), None
    if token:
        # One lookup per key per batch (a batch mostly carries one institution's key). A key
        # revoked while its batch runs still counts for the rest of it, as it does for an
        # HTTP request authenticated just before the revocation.
        if token not in callers:
            callers[token] = await caller_for_key(pool, token, CHANNEL)
        caller = callers[token]
    if caller is None:
        raise Rejected("unauthorized", "missing or invalid API key in the 'authorization' header", "authorization")
    try:
        return _authenticated_request(record, headers, caller)
    except Rejected as refusal:
        refusal.of(caller)
        raise


def _authenticated_request(record: ConsumerRecord, headers: dict[str, str], caller: Caller) -> FundingRequest:
    idempotency_key = headers.get("idempotency-key", "")
    if not 1 <= len(idempotency_key) <= 200 or not idempotency_key.isprintable():
        raise Rejected(
            "missing_idempotency_key", "an 'idempotency-key' header (1-200 characters) is required", "idempotency-key"
        )
    raw = record.value or b""
    try:
        # pydantic reads a key written twice as its last value: refused here as over HTTP
        # (regia_shared.http.limits), so that the message means one thing to every reader.
        repeated = repeated_key(raw)
    except (ValueError, RecursionError):
        repeated = None  # not JSON pydantic can read either: its refusal says why
    if repeated is not None:
        raise Rejected("validation_failed", repeated_key_message(repeated), repeated)
    try:
        command = COMMAND.validate_json(raw)
    except ValidationError as exc:
        details = [{"field": field_name(e, frozenset(COMMAND_TYPES)), "message": e["msg"]} for e in exc.errors()]
        raise Rejected(
            "validation_failed",
            "; ".join(f"{d['field']}: {d['message']}" for d in details),
            details[0]["field"] if details else None,
            details,
        ) from exc
    correlation_id = headers.get("correlation-id", "")
    if not (0 < len(correlation_id) <= 200 and correlation_id.isprintable()):  # no NUL into SQL
        correlation_id = secrets.token_hex(16)
    reason = _reason(headers.get("x-regia-reason"), command.reason)
    fingerprint = hashlib.sha256(json.dumps([wire(command)], sort_keys=True).encode()).hexdigest()
    # Audited as the key's, through Kafka, in the transaction that records it.
    write = WriteContext(
        service="funding",
        actor=f"key:{caller.key_id}",
        channel=CHANNEL,
        reason=reason,
        method="KAFKA",
        route=record.topic,
        path=f"{record.topic}/{record.partition}/{record.offset}",
        request_id=idempotency_key,
        status=202,
        correlation_id=correlation_id,
    )
    return FundingRequest(caller, [command], False, idempotency_key, fingerprint, correlation_id, write)


def _reason(header: str | None, own: str | None) -> str:
    """The message's reason: its `x-regia-reason` header (UTF-8), else the command's own."""
    try:
        if header is not None:
            return checked_reason(header)
        if own and own.strip():
            return own.strip()[:500]
        raise ReasonInvalid("a change of money needs a reason")
    except ReasonInvalid as exc:
        raise Rejected(
            "reason_required",
            f"{exc}: send it in the command's `reason` or an 'x-regia-reason' header (3-500 characters)",
            "x-regia-reason",
        ) from None


def _rejected(refusal: Refused) -> Rejected:
    details = refusal.details if isinstance(refusal, BatchRefused) else None
    return Rejected(refusal.code, refusal.message, refusal.field, details)


def _rejection(record: ConsumerRecord, refusal: Rejected) -> bytes:
    value = record.value or b""
    try:
        original: Any = value.decode()
    except UnicodeDecodeError:
        original = {"base64": base64.b64encode(value).decode()}
    return json.dumps(
        {
            "error": refusal.error,
            "message": refusal.message,
            "field": refusal.field,
            "details": refusal.details,
            "original": {
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "key": record.key.decode(errors="replace") if record.key else None,
                "value": original,
                # The key the institution sent is a secret: it never leaves in a rejection.
                "headers": {
                    k: v.decode(errors="replace") for k, v in (record.headers or ()) if k.lower() != "authorization"
                },
            },
        }
    ).encode()
