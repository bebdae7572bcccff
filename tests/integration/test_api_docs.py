"""Every running service documents its HTTP API (OpenAPI) and its topics (AsyncAPI), both
generated from its code, served without any outside asset."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from openapi_spec_validator import validate

from regia_funding.app import create_app as funding_app
from regia_notifier.app import create_app as notifier_app
from regia_objectives.app import create_app as objectives_app
from regia_partners.app import create_app as partners_app
from regia_shared.contracts import topics

from ..support.services import in_process

pytestmark = pytest.mark.usefixtures("service_env")

# service: (app factory, topics it consumes, topics it publishes -> one payload it carries)
SERVICES: dict[str, tuple[Callable[[], FastAPI], set[str], dict[str, str]]] = {
    "funding": (
        funding_app,
        {topics.PARTNERS, topics.OBJECTIVES, topics.FUNDING_INBOUND},
        {topics.FUNDING: "FundingCommitted", topics.FUNDING_INBOUND_REJECTED: "InboundRejection"},
    ),
    "objectives": (
        objectives_app,
        {topics.FUNDING, topics.PARTNERS},
        {topics.OBJECTIVES: "ObjectiveDefined", topics.OBJECTIVES_COVERAGE: "ObjectiveStatusChanged"},
    ),
    "partners": (partners_app, {topics.OBJECTIVES}, {topics.PARTNERS: "PartnerRegistered"}),  # a plan's leads
    "notifier": (
        notifier_app,
        {topics.PARTNERS, topics.OBJECTIVES, topics.OBJECTIVES_COVERAGE, topics.FUNDING},
        {topics.NOTIFICATIONS: "AlertDelivered"},
    ),
}
EXTERNAL_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def addresses(doc: dict[str, Any], action: str) -> set[str]:
    channels = doc["channels"]
    return {
        channels[op["channel"]["$ref"].rsplit("/", 1)[-1]]["address"]
        for op in doc["operations"].values()
        if op["action"] == action
    }


def payload_schemas(doc: dict[str, Any], address: str) -> set[str]:
    """The schema names a channel's messages carry (a union lists each alternative)."""
    names: set[str] = set()
    schemas = doc["components"]["schemas"]
    for channel in doc["channels"].values():
        if channel["address"] != address:
            continue
        for message in channel["messages"].values():
            component = doc["components"]["messages"][message["$ref"].rsplit("/", 1)[-1]]
            payload_name = component["payload"]["$ref"].rsplit("/", 1)[-1]
            payload = schemas[payload_name]
            alternatives = payload.get("oneOf") or payload.get("anyOf")
            names |= {a["$ref"].rsplit("/", 1)[-1] for a in alternatives} if alternatives else {payload_name}
    return names


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_a_service_serves_its_asyncapi_and_openapi(service: str) -> None:
    create_app, consumed, published = SERVICES[service]
    async with in_process(service, create_app) as running, running.client() as client:
        r = await client.get("/asyncapi.json")
        assert r.status_code == 200
        doc = r.json()
        assert doc["asyncapi"].startswith("3.")
        assert doc["info"]["title"] == f"Regia {service}" and doc["info"]["version"]
        assert addresses(doc, "receive") == consumed
        assert addresses(doc, "send") == set(published)
        for topic, payload in published.items():
            assert payload in payload_schemas(doc, topic), topic
            assert "properties" in doc["components"]["schemas"][payload]

        r = await client.get("/openapi.json")
        assert r.status_code == 200
        openapi = r.json()
        validate(openapi)
        assert openapi["info"]["title"] == f"Regia {service}" and openapi["info"]["version"]

        for page in ("/asyncapi", "/docs"):
            r = await client.get(page)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), page
            assert not EXTERNAL_ASSET.search(r.text), page
        assert "/health/ready" in (await client.get("/docs")).text
        # The probe names who answered: a waiter on a port tells this service from another
        # process that holds the port.
        ready = await client.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["service"] == service, ready.text
        page = (await client.get("/asyncapi")).text
        assert all(t in page for t in [*published, *consumed])
        # FastAPI's own pages load from a CDN: they are gone, not half-working.
        assert (await client.get("/redoc")).status_code == 404
