"""The API documents every service serves, generated from its code on each request.

- `GET /asyncapi.json`: AsyncAPI 3.0 from the service's faststream broker. Subscribers are
  there already; publications are not, because the outbox relay publishes with the raw
  producer. So each published topic is declared as a faststream publisher that is never
  called: it exists only so the document lists the topic and its payload schemas, taken
  from the event registry (see `apidocs_topics`), and can't drift from the contracts.
  A consumed topic whose subscriber reads its records raw (so faststream sees no payload
  type) and whose messages carry meaning in their headers is described by the service
  with a `MessageDoc` in `app.state.message_docs` (topic -> doc): its payload schema,
  headers and key are written into that channel's messages (faststream documents no
  headers at all).
- `GET /asyncapi`: the same, as a plain HTML page rendered here.
- `GET /docs`: a plain HTML list of the OpenAPI operations. FastAPI's own /docs and /redoc
  load their scripts from a CDN, which an offline or locked-down deployment cannot reach,
  so they are replaced rather than left half-working.

No page loads anything from outside the service.
"""

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from starlette.routing import Route

from regia_shared.http.access import PUBLIC_READ
from regia_shared.http.apidocs_topics import NON_EVENT_TOPICS, events_on

ENVELOPE_NOTE = (
    "Events travel as JSON in the Envelope (event_id, type, version, key, occurred_at, "
    "producer, correlation_id, causation_id, payload); `type` names the payload schema."
)


@dataclass(frozen=True)
class MessageDoc:
    """What a consumed topic's messages hold, where faststream cannot see it."""

    payload: dict[str, Any]  # a JSON schema (its `$defs` become component schemas)
    headers: dict[str, Any]  # a JSON schema of an object: one property per header
    key: dict[str, Any] | None = None  # a JSON schema of the Kafka record key
    description: str | None = None
    content_type: str = "application/json"


def declare_publications(broker: KafkaBroker, service: str, publishes: Sequence[str]) -> None:
    """Register a documentation-only publisher per published topic. Nothing calls them:
    the outbox relay still publishes, so delivery is unchanged."""
    for topic in publishes:
        if topic in NON_EVENT_TOPICS:
            model, description = NON_EVENT_TOPICS[topic]
            schema: Any = model
        else:
            models = events_on(topic)
            if not models:
                raise ValueError(f"no registered event type is published on {topic!r}")
            schema = Union[tuple(models)]  # noqa: UP007 - a runtime-built union of models
            description = f"{service} publishes {', '.join(m.event_type() for m in models)}. {ENVELOPE_NOTE}"
        broker.publisher(topic, title=f"{service}:{topic}", description=description, schema=schema)


def asyncapi_document(
    broker: KafkaBroker, *, title: str, version: str, messages: Mapping[str, MessageDoc] | None = None
) -> dict[str, Any]:
    spec = AsyncAPI(broker, title=title, version=version, schema_version="3.0.0", description=ENVELOPE_NOTE)
    doc: dict[str, Any] = spec.to_specification().to_jsonable()
    for address, described in (messages or {}).items():
        _describe_messages(doc, address, described)
    return doc


def _components(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its `$defs` moved into the document's component schemas and its
    references pointed there."""
    schema = json.loads(json.dumps(schema).replace('"#/$defs/', '"#/components/schemas/'))
    doc.setdefault("components", {}).setdefault("schemas", {}).update(schema.pop("$defs", {}))
    return schema


def _describe_messages(doc: dict[str, Any], address: str, described: MessageDoc) -> None:
    """Write a consumed topic's payload schema, headers and key into its channel's messages."""
    payload = _components(doc, described.payload)
    name = payload.get("title") or f"{address}:Payload"
    doc.setdefault("components", {}).setdefault("schemas", {})[name] = payload
    for channel in doc.get("channels", {}).values():
        if channel.get("address") != address:
            continue
        if described.description:
            channel["description"] = described.description
        for message_ref in channel.get("messages", {}).values():
            message = _resolve(doc, message_ref["$ref"])
            if "$ref" in message:
                message = _resolve(doc, message["$ref"])
            message["payload"] = {"$ref": f"#/components/schemas/{name}"}
            message["headers"] = _components(doc, described.headers)
            message["contentType"] = described.content_type
            header_names = message["headers"].get("properties", {})
            if "correlation-id" in header_names:
                message["correlationId"] = {"location": "$message.header#/correlation-id"}
            else:
                message.pop("correlationId", None)
            if described.key is not None:
                message["bindings"] = {"kafka": {"key": described.key, "bindingVersion": "0.5.0"}}


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _schema_names(schema: dict[str, Any]) -> list[str]:
    """The component schemas a message payload names (directly or as a union)."""
    if "$ref" in schema:
        return [_ref_name(schema["$ref"])]
    alternatives = schema.get("oneOf") or schema.get("anyOf") or []
    return [_ref_name(s["$ref"]) for s in alternatives if "$ref" in s]


def render_asyncapi_html(doc: dict[str, Any]) -> str:
    e = html.escape
    info = doc.get("info", {})
    parts = [
        f"<h1>{e(info.get('title', ''))} <small>v{e(str(info.get('version', '')))}</small></h1>",
        f"<p>{e(info.get('description') or '')}</p>",
        f'<p>Machine-readable: <a href="asyncapi.json">asyncapi.json</a> (AsyncAPI {e(doc.get("asyncapi", ""))}).</p>',
        "<h2>Operations</h2>",
    ]
    schemas = doc.get("components", {}).get("schemas", {})
    for name, operation in sorted(doc.get("operations", {}).items(), key=lambda kv: (kv[1].get("action", ""), kv[0])):
        channel = _resolve(doc, operation["channel"]["$ref"])
        verb = "publishes to" if operation.get("action") == "send" else "consumes"
        parts.append(f"<h3>{e(verb)} <code>{e(channel.get('address', ''))}</code></h3>")
        parts.append(f"<p><small>{e(name)}</small></p>")
        if channel.get("description"):
            parts.append(f"<p>{e(channel['description'])}</p>")
        names: list[str] = []
        for message_ref in operation.get("messages", []):
            message = _resolve(doc, message_ref["$ref"])
            if "$ref" in message:  # channel messages point at components
                message = _resolve(doc, message["$ref"])
            payload = message.get("payload", {})
            if "$ref" in payload:
                payload_name = _ref_name(payload["$ref"])
                payload = schemas.get(payload_name, payload)
                if not _schema_names(payload):
                    names.append(payload_name)
            names += _schema_names(payload)
        shown = [n for n in names if n != "EmptyPayload"]
        if shown:
            parts.append("<p>Messages: " + ", ".join(f'<a href="#schema-{e(n)}">{e(n)}</a>' for n in shown) + "</p>")
        for message_ref in operation.get("messages", []):
            message = _resolve(doc, message_ref["$ref"])
            if "$ref" in message:
                message = _resolve(doc, message["$ref"])
            headers = message.get("headers", {})
            if headers.get("properties"):
                required = set(headers.get("required", []))
                listed = [
                    f"<li><code>{e(h)}</code>{' (required)' if h in required else ''}: "
                    f"{e(str(spec.get('description', '')))}</li>"
                    for h, spec in headers["properties"].items()
                ]
                parts.append("<p>Headers:</p><ul>" + "".join(listed) + "</ul>")
    parts.append("<h2>Schemas</h2>")
    for name, schema in sorted(schemas.items()):
        if name == "EmptyPayload":
            continue
        parts.append(f'<h3 id="schema-{e(name)}">{e(name)}</h3><pre>{e(json.dumps(schema, indent=2))}</pre>')
    return _page(f"{info.get('title', '')}: events", parts)


def render_openapi_html(openapi: dict[str, Any]) -> str:
    e = html.escape
    info = openapi.get("info", {})
    parts = [
        f"<h1>{e(info.get('title', ''))} <small>v{e(str(info.get('version', '')))}</small></h1>",
        '<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI '
        f'{e(openapi.get("openapi", ""))}); events: <a href="asyncapi">asyncapi</a>.</p>',
        "<table><tr><th>Method</th><th>Path</th><th>Tags</th><th>Summary</th></tr>",
    ]
    for path, item in openapi.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or method == "parameters":
                continue
            summary = op.get("summary") or ""
            parts.append(
                f"<tr><td><code>{e(method.upper())}</code></td><td><code>{e(path)}</code></td>"
                f"<td>{e(', '.join(op.get('tags', [])))}</td><td>{e(summary)}"
                f"<br><small>{e(op.get('description') or '')}</small></td></tr>"
            )
    parts.append("</table><h2>Schemas</h2>")
    for name, schema in sorted(openapi.get("components", {}).get("schemas", {}).items()):
        parts.append(f"<details><summary>{e(name)}</summary><pre>{e(json.dumps(schema, indent=2))}</pre></details>")
    return _page(f"{info.get('title', '')}: HTTP API", parts)


def _page(title: str, parts: list[str]) -> str:
    style = (
        "body{font-family:sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem}"
        "pre{background:#f4f4f4;padding:.5rem;overflow:auto}td,th{text-align:left;"
        "vertical-align:top;padding:.2rem .5rem;border-bottom:1px solid #ddd}"
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )


def api_docs_router(app: FastAPI, broker: KafkaBroker, service: str, publishes: Sequence[str]) -> APIRouter:
    """The documentation routes; also declares the publications on the broker and takes
    FastAPI's CDN-backed /docs and /redoc off the app (they would shadow ours)."""
    cdn_pages = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url} - {None}
    app.router.routes[:] = [r for r in app.router.routes if not (isinstance(r, Route) and r.path in cdn_pages)]
    app.docs_url = app.redoc_url = None
    declare_publications(broker, service, publishes)
    router = APIRouter(tags=["documentation"], dependencies=[PUBLIC_READ])  # like /openapi.json

    def document() -> dict[str, Any]:
        messages = getattr(app.state, "message_docs", None)  # set by a service after http_app
        return asyncapi_document(broker, title=app.title, version=app.version, messages=messages)

    @router.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(document())

    @router.get("/asyncapi", include_in_schema=False)
    async def asyncapi_html() -> HTMLResponse:
        return HTMLResponse(render_asyncapi_html(document()))

    @router.get("/docs", include_in_schema=False)
    async def docs_html() -> HTMLResponse:
        return HTMLResponse(render_openapi_html(app.openapi()))

    return router
