"""Limits every service's HTTP API puts on a request before any route sees it.

- A body over `max_body_bytes` is refused with 413, whether it declares its length or
  streams it in chunks (counted as it arrives, never buffered past the limit).
- A JSON body (or a body without a content type, which FastAPI reads as JSON) must be
  JSON a route can use: nested no deeper than `max_depth`, no number beyond a float's
  range (1e999, NaN, Infinity), no integer longer than `MAX_INT_DIGITS`, and no string
  PostgreSQL text refuses or cannot encode (NUL, a lone UTF-16 surrogate), and no key
  written twice in one object (`duplicate_key`). Syntax errors are left to FastAPI, which
  names their position.
- The path and the query string may not carry NUL either.

Each refusal uses the one error shape (errors.error_body) and reaches no route, so it
writes nothing.
"""

import json
import math
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from regia_shared.http.errors import error_body

MAX_BODY_BYTES = 4 * 1024 * 1024  # a 1,000-event batch with long reasons, a 2 MiB plan file
MAX_DEPTH = 32
# A body a little over the limit is read to its end before the 413 goes out, so that a
# client still sending sees the answer rather than a reset connection; beyond this many
# times the limit the connection is closed instead.
DRAIN_FACTOR = 4
MAX_INT_DIGITS = 30  # well beyond any amount (money.MAX_CENTS has 15 digits)


class Unusable(ValueError):
    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class _Repeated(dict):
    """An object that wrote a key more than once (`repeated`: the first such key), so that
    the walk can name where it is."""

    repeated: str


def _object(pairs: list[tuple[str, Any]]) -> dict:
    # JSON leaves duplicate keys undefined; Python and pydantic keep the last value, a
    # reviewer's tool or a proxy may keep the first. The same bytes must not mean two
    # requests: a repeated key is refused, never resolved.
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    _parse.repeated = True
    flagged = _Repeated(obj)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            flagged.repeated = key
            break
        seen.add(key)
    return flagged


# Whether the parse under way in this thread met an object with a repeated key: a parse
# runs start to end in one thread, so `repeated_key` walks what it parsed only when it did.
_parse = threading.local()


def repeated_key(body: bytes | str) -> str | None:
    """`duplicate_key(loads(body))`, without walking the parsed value when no object in it
    repeated a key (nearly always): the walk took as long as the parse."""
    _parse.repeated = False
    data = loads(body)
    return duplicate_key(data) if _parse.repeated else None


def duplicate_key(data: Any) -> str | None:
    """The dotted path of a key written twice in JSON parsed with `loads`, or None."""
    for path, _, value in _walk(data):
        if isinstance(value, _Repeated):
            return f"{path}.{value.repeated}" if path else value.repeated
    return None


def loads(body: bytes | str) -> Any:
    """`json.loads` that keeps track of repeated keys (see `duplicate_key`) and refuses
    numbers beyond a float's range or longer than MAX_INT_DIGITS digits (`Unusable`).

    Its decoder is made once (`_DECODER`): `json.loads` given hooks builds a new decoder
    and scanner on every call, about a third of the parse of a funding command (7.5-9.4 µs
    with it, 5.1-5.4 without). Bytes are read as `json.loads` reads them (the encoding its `detect_encoding` finds), and
    text with a byte order mark is refused as it refuses it."""
    if isinstance(body, bytes | bytearray):
        text = body.decode(json.detect_encoding(body), "surrogatepass")
    elif body.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", body, 0)
    else:
        text = body
    return _DECODER.decode(text)


def repeated_key_message(path: str) -> str:
    return f"{path}: the key {path.rsplit('.', 1)[-1]!r} is written more than once in its object"


class RequestLimits:
    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_DEPTH) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_url(scope)
        except Unusable as exc:
            await _refuse(send, 422, "validation_failed", exc.message, exc.field)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            if declared.isdigit() and int(declared) <= DRAIN_FACTOR * self.max_body_bytes:
                await _drain(receive, DRAIN_FACTOR * self.max_body_bytes)
            await _refuse(send, 413, "payload_too_large", self._too_large())
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            more = message.get("more_body", False)
            if size > self.max_body_bytes:
                if more:
                    await _drain(receive, DRAIN_FACTOR * self.max_body_bytes - size)
                await _refuse(send, 413, "payload_too_large", self._too_large())
                return
            chunks.append(chunk)
        body = b"".join(chunks)
        if body and _is_json(headers.get(b"content-type")):
            try:
                self._check_json(body)
            except Unusable as exc:
                await _refuse(send, 422, "validation_failed", exc.message, exc.field)
                return
        await self.app(scope, replayed_body(body, receive), send)

    def _too_large(self) -> str:
        return f"the request body is over {self.max_body_bytes} bytes"

    def _check_json(self, body: bytes) -> None:
        try:
            data = loads(body)
        except Unusable:
            raise
        except RecursionError as exc:
            raise Unusable(f"the JSON is nested deeper than {self.max_depth} levels") from exc
        except json.JSONDecodeError:
            return  # FastAPI refuses it, naming the position
        except ValueError as exc:  # not UTF-8, for one
            raise Unusable(f"invalid JSON: {exc}") from exc
        for path, depth, value in _walk(data):
            if depth > self.max_depth:
                raise Unusable(f"the JSON is nested deeper than {self.max_depth} levels", path or "body")
            if isinstance(value, str):
                problem = _bad_text(value)
                if problem:
                    raise Unusable(f"{path or 'body'}: {problem}", path or "body")
            if isinstance(value, _Repeated):
                where = f"{path}.{value.repeated}" if path else value.repeated
                raise Unusable(repeated_key_message(where), where)


def install_request_limits(app: Any, max_body_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_DEPTH) -> None:
    app.add_middleware(RequestLimits, max_body_bytes=max_body_bytes, max_depth=max_depth)


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "text may not contain the NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text may not contain a lone UTF-16 surrogate"
    return None


def _check_url(scope: Scope) -> None:
    problem = _bad_text(scope.get("path", ""))
    if problem:
        raise Unusable(f"path: {problem}", "path")
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        for part in (name, value):
            problem = _bad_text(part)
            if problem:
                raise Unusable(f"query.{name.replace(chr(0), '')}: {problem}", f"query.{name.replace(chr(0), '')}")


def _is_json(content_type: bytes | None) -> bool:
    if not content_type:
        return True  # FastAPI reads a body without a content type as JSON
    media = content_type.split(b";")[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Unusable(f"the number {text[:40]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise Unusable(f"the number {text[:40]}... has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _no_constant(name: str) -> None:
    raise Unusable(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(
    parse_float=_finite, parse_int=_bounded_int, parse_constant=_no_constant, object_pairs_hook=_object
)


def _walk(data: Any) -> Iterator[tuple[str, int, Any]]:
    """(dotted path, depth, value) of every value and key, without recursion."""
    stack: list[tuple[str, int, Any]] = [("", 0, data)]
    while stack:
        path, depth, value = stack.pop()
        yield path, depth, value
        if isinstance(value, dict):
            for key, item in value.items():
                yield path, depth, key
                stack.append((f"{path}.{key}" if path else str(key), depth + 1, item))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((f"{path}.{index}" if path else str(index), depth + 1, item))


async def _drain(receive: Receive, budget: int) -> None:
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def replayed_body(body: bytes, receive: Receive) -> Receive:
    """`receive`, but the whole body first (once), as if it had not been read yet: for an
    app after one that had to read the body (this middleware, a fast path)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse(send: Send, status: int, code: str, message: str, field: str | None = "body") -> None:
    payload = json.dumps(error_body(code, message, field)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
