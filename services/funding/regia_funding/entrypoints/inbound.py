"""The Kafka way in for institutions: `regia.funding.inbound.v1`.

A message is one funding command in the JSON of `POST /v1/funding-events`, with the
institution's key in an `authorization: Bearer …` header and an `idempotency-key` header.
It goes through the very same authentication, validation and use case as HTTP. Each
message is its own transaction, and its Idempotency-Key record makes a redelivery after a
crash change nothing. A message that is refused (bad key, bad JSON, a broken rule) goes to
`regia.funding.inbound.rejected.v1` with the reason and the original message (without its
key), and the partition moves on; only a transient failure (the database away) rewinds.
"""

import base64
import hashlib
import json
import secrets
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import Counter
from pydantic import TypeAdapter, ValidationError

from regia_shared import topics
from regia_shared.errors import field_name
from regia_shared.logs import bind_contextvars, get_logger
from regia_shared.refusal import Refused
from regia_shared.runtime import ServiceRuntime

from ..domain.commands import COMMAND_TYPES, FundingCommand
from ..handlers import BatchRefused, record_funding_events
from .auth import caller_for_key

log = get_logger(__name__)
COMMAND = TypeAdapter(FundingCommand)
CHANNEL = "kafka"


class Rejected(Exception):
    def __init__(self, error: str, message: str, field: str | None = None, details: list | None = None) -> None:
        super().__init__(message)
        self.error, self.message, self.field, self.details = error, message, field, details or []


def register(runtime: ServiceRuntime) -> None:
    accepted = Counter("regia_funding_inbound_accepted_total", "Inbound Kafka funding events accepted",
                       registry=runtime.registry)
    rejected = Counter("regia_funding_inbound_rejected_total", "Inbound Kafka funding events rejected",
                       ["reason"], registry=runtime.registry)

    @runtime.broker.subscriber(
        topics.FUNDING_INBOUND, group_id="funding.inbound", batch=True, max_records=200,
        auto_offset_reset="earliest", ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=runtime.settings.kafka_session_timeout_ms, title="funding.inbound",
    )
    async def handle(_: list[Any], message: KafkaMessage) -> None:
        for record in message.raw_message:
            try:
                await _accept(runtime, record)
                accepted.inc()
            except Rejected as refusal:
                rejected.labels(refusal.error).inc()
                log.info("inbound funding event rejected", error=refusal.error, field=refusal.field,
                         partition=record.partition, offset=record.offset)
                await runtime.broker.publish(
                    _rejection(record, refusal), topic=topics.FUNDING_INBOUND_REJECTED, key=record.key,
                    headers={"content-type": "application/json", "error": refusal.error})


async def _accept(runtime: ServiceRuntime, record: ConsumerRecord) -> None:
    headers = {k.lower(): v.decode(errors="replace") for k, v in (record.headers or ())}
    scheme, _, token = headers.get("authorization", "").partition(" ")
    caller = await caller_for_key(runtime.pool, token.strip(), CHANNEL) if scheme.lower() == "bearer" else None
    if caller is None:
        raise Rejected("unauthorized", "missing or invalid API key in the 'authorization' header",
                       "authorization")
    idempotency_key = headers.get("idempotency-key", "")
    if not 1 <= len(idempotency_key) <= 200 or not idempotency_key.isprintable():
        raise Rejected("missing_idempotency_key", "an 'idempotency-key' header (1-200 characters) is "
                       "required", "idempotency-key")
    try:
        command = COMMAND.validate_json(record.value or b"")
    except ValidationError as exc:
        details = [{"field": field_name(e, frozenset(COMMAND_TYPES)), "message": e["msg"]}
                   for e in exc.errors()]
        raise Rejected("validation_failed", "; ".join(f"{d['field']}: {d['message']}" for d in details),
                       details[0]["field"] if details else None, details) from exc
    correlation_id = headers.get("correlation-id", "")
    if not (0 < len(correlation_id) <= 200 and correlation_id.isprintable()):  # no NUL into SQL
        correlation_id = secrets.token_hex(16)
    bind_contextvars(correlation_id=correlation_id, institution=caller.institution_id)
    fingerprint = hashlib.sha256(json.dumps([command.model_dump(mode="json")], sort_keys=True).encode()).hexdigest()
    try:
        await record_funding_events(runtime.pool, caller, [command], batch=False,
                                    idempotency_key=idempotency_key, request_sha256=fingerprint,
                                    correlation_id=correlation_id)
    except Refused as refusal:
        details = refusal.details if isinstance(refusal, BatchRefused) else None
        raise Rejected(refusal.code, refusal.message, refusal.field, details) from refusal


def _rejection(record: ConsumerRecord, refusal: Rejected) -> bytes:
    value = record.value or b""
    try:
        original: Any = value.decode()
    except UnicodeDecodeError:
        original = {"base64": base64.b64encode(value).decode()}
    return json.dumps({
        "error": refusal.error, "message": refusal.message, "field": refusal.field, "details": refusal.details,
        "original": {
            "topic": record.topic, "partition": record.partition, "offset": record.offset,
            "key": record.key.decode(errors="replace") if record.key else None, "value": original,
            # The key the institution sent is a secret: it never leaves in a rejection.
            "headers": {k: v.decode(errors="replace") for k, v in (record.headers or ())
                        if k.lower() != "authorization"},
        },
    }).encode()
