"""The API documents are derived from the contracts, so they cannot drift from them."""

import json
import re
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker

from regia_funding.entrypoints.inbound import Rejected, _rejection
from regia_notifier.entrypoints.consumers import COVERAGE_EVENTS
from regia_shared.contracts import topics
from regia_shared.contracts.events.registry import EVENT_TYPES
from regia_shared.contracts.events.routing import ON_COVERAGE_TOPIC
from regia_shared.http.apidocs import (
    asyncapi_document,
    declare_publications,
    render_asyncapi_html,
    render_openapi_html,
)
from regia_shared.http.apidocs_topics import InboundRejection, events_on, topic_of
from regia_shared.messaging.consumer import subscribe


def test_every_registered_event_has_its_topic() -> None:
    unplaced = [name for name, model in EVENT_TYPES.items() if topic_of(model) not in topics.ALL]
    assert unplaced == []
    assert {m.__name__ for m in events_on(topics.FUNDING)} >= {"FundingCommitted", "FundingRolledOver"}
    assert {m.__name__ for m in events_on(topics.OBJECTIVES)} >= {"ObjectiveDefined", "AnnualReviewClosed"}


def test_the_coverage_events_are_documented_and_read_on_their_own_topic() -> None:
    on_coverage = {m.event_type() for m in ON_COVERAGE_TOPIC}
    assert {m.event_type() for m in events_on(topics.OBJECTIVES_COVERAGE)} == on_coverage
    assert not on_coverage & {m.event_type() for m in events_on(topics.OBJECTIVES)}
    # The notifier's coverage group wants only what travels there, and all of it but the
    # one event it has no rule for.
    assert set(COVERAGE_EVENTS) == on_coverage - {"SingleLevelDependencyDetected"}


def test_the_documented_rejection_is_what_the_funding_service_sends() -> None:
    record = ConsumerRecord(
        topic=topics.FUNDING_INBOUND,
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=b'{"type": "x"}',
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=13,
        headers=[("authorization", b"Bearer secret"), ("idempotency-key", b"i")],
    )
    sent = json.loads(_rejection(record, Rejected("validation_failed", "bad", "type", [{"field": "type"}])))
    InboundRejection.model_validate(sent)  # extra="forbid": a new field must be documented


def documented() -> dict[str, Any]:
    broker = KafkaBroker("localhost:9092")

    async def apply(conn: Any, events: Any) -> None: ...

    subscribe(
        broker,
        lambda: None,
        topic=topics.PARTNERS,
        consumer="funding.partners",  # type: ignore[arg-type,return-value]
        wanted=["PartnerRegistered", "ContactAdded"],
        apply=apply,
    )
    declare_publications(broker, "funding", [topics.FUNDING, topics.FUNDING_INBOUND_REJECTED])
    return asyncapi_document(broker, title="Regia funding", version="1")


def test_publications_carry_every_payload_schema_of_their_topic() -> None:
    doc = documented()
    sends = [op for op in doc["operations"].values() if op["action"] == "send"]
    assert len(sends) == 2
    schemas = doc["components"]["schemas"]
    for model in events_on(topics.FUNDING):
        # Same fields as the contract; only where $refs point differs (#/$defs vs components).
        assert set(schemas[model.__name__]["properties"]) == set(model.model_json_schema()["properties"])
    assert "InboundRejection" in schemas


def test_a_subscriber_says_which_event_types_it_applies() -> None:
    doc = documented()
    channel = doc["channels"][f"funding.partners:{topics.PARTNERS}"]
    assert channel["address"] == topics.PARTNERS
    assert "ContactAdded, PartnerRegistered" in channel["description"]


def test_the_pages_are_self_contained_and_escaped() -> None:
    page = render_asyncapi_html(documented())
    assert "FundingCommitted" in page and topics.FUNDING in page
    openapi = {
        "openapi": "3.1.0",
        "info": {"title": "<T>", "version": "1"},
        "paths": {"/x": {"get": {"summary": "<script>", "tags": ["t"]}}},
    }
    listing = render_openapi_html(openapi)
    assert "&lt;script&gt;" in listing and "<script>" not in listing
    for html in (page, listing):
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
