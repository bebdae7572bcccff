"""One paging style for every list endpoint of every service.

Guarantees, stated first:
- A list answers `{"items": [...], "next_cursor": "..." | null}`; `next_cursor` is null on
  the last page and only there. The same `next_cursor` is also sent as a `Link: <url>;
  rel="next"` header, so a generic HTTP client can walk the pages without knowing Regia.
- Paging is by key (keyset), never by offset: page 5,000 costs what page 1 costs, and a
  row inserted or removed while a client walks the pages neither repeats nor skips any
  other row.
- A cursor is opaque to the client. It names the listing it was made for and the filters
  it was made under; one replayed against another listing or other filters is a 422
  naming `cursor`, never a silently wrong page.

Why hand-written: FastAPI has no paging of its own, and fastapi-pagination pages by offset
(or needs SQLAlchemy for its cursor pages); Regia reads with asyncpg, so the keyset
predicate is written by each adapter and this module only carries the key between pages.

Use in a route:

    async def list_things(pool: DatabasePool, page: PageRequest, ...) -> Page[Thing]:
        after = page.after("things", filters)          # the last key seen, or None
        rows = await adapter.things(conn, after, page.limit + 1, ...)
        return page.of([Thing(**r) for r in rows], key=lambda t: (t.name, t.id))
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field

from regia_shared.contracts.refusal import Refused

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class InvalidCursor(Refused):
    status = 422
    code = "validation_failed"


class Page(BaseModel, Generic[T]):
    """One page of a listing."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page.", default=None
    )


def _fingerprint(listing: str, filters: dict[str, Any]) -> str:
    canonical = json.dumps([listing, sorted((k, v) for k, v in filters.items() if v is not None)], default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(listing: str, filters: dict[str, Any], key: Sequence[Any]) -> str:
    body = json.dumps({"l": _fingerprint(listing, filters), "k": list(key)}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, listing: str, filters: dict[str, Any]) -> list[Any]:
    """The key a cursor carries, or InvalidCursor naming `cursor` if it was not made by
    this listing under these filters."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode()))
        fingerprint, key = body["l"], body["k"]
    except (ValueError, binascii.Error, KeyError, TypeError) as exc:
        raise InvalidCursor("cursor is not one this API made; pass back a next_cursor as it came", "cursor") from exc
    if fingerprint != _fingerprint(listing, filters) or not isinstance(key, list):
        raise InvalidCursor("cursor was made for another listing or other filters; start again without it", "cursor")
    return key


KeyKind = Callable[[Any], Any]


def text(value: Any) -> str:
    """A text column's value: a string PostgreSQL can store (no NUL, valid UTF-8)."""
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not a text key")
    value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError, a ValueError
    return value


def instant(value: Any) -> datetime:
    """A timestamptz column's value, written by `of` as ISO 8601 (`datetime.isoformat`)."""
    if not isinstance(value, str):
        raise ValueError("not a time key")
    found = datetime.fromisoformat(value)
    if found.tzinfo is None:
        raise ValueError("a time key without its zone")
    return found


def uuid_key(value: Any) -> UUID:
    if not isinstance(value, str):
        raise ValueError("not a uuid key")
    return UUID(value)


def bigint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise ValueError("not a bigint key")
    return value


def typed_key(key: list[Any], kinds: Sequence[KeyKind]) -> list[Any]:
    """`key` converted part by part by `kinds`, or InvalidCursor naming `cursor`."""
    if len(key) != len(kinds):
        raise InvalidCursor("cursor is not one this API made; pass back a next_cursor as it came", "cursor")
    try:
        return [kind(part) for kind, part in zip(kinds, key, strict=True)]
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidCursor("cursor is not one this API made; pass back a next_cursor as it came", "cursor") from exc


class PageRequest:
    """The `limit` and `cursor` query parameters of a list endpoint, and the making of its
    answer. A dependency: declare `page: PageRequest` in a route."""

    def __init__(self, request: Request, response: Response, limit: int, cursor: str | None) -> None:
        self.request, self.response = request, response
        self.limit, self.cursor = limit, cursor
        self._listing: str | None = None
        self._filters: dict[str, Any] = {}

    def after(
        self, listing: str, filters: dict[str, Any] | None = None, kinds: Sequence[KeyKind] | None = None
    ) -> list[Any] | None:
        """The key of the last row of the previous page (None on the first page). Must be
        called before `of`: it binds the cursors this page makes to `listing` and `filters`.

        `kinds` (e.g. `(text, instant, uuid_key)`) converts each part of the key to what
        the keyset predicate binds. Give it: a cursor comes back from the client, who can
        make one with any key (only the listing and filters are checked), and a key of the
        wrong length, type or range is then a 422 naming `cursor` instead of a 500 from
        the database driver."""
        self._listing, self._filters = listing, dict(filters or {})
        if self.cursor is None:
            return None
        key = decode_cursor(self.cursor, listing, self._filters)
        return key if kinds is None else typed_key(key, kinds)

    def of(self, rows: Sequence[T], key: Callable[[T], Sequence[Any]]) -> "Page[T]":
        """The page from `rows`, fetched with `limit + 1` so the extra row says whether
        there is a next page (without a count query)."""
        if self._listing is None:
            raise RuntimeError("PageRequest.after() must be called before of()")
        items = list(rows[: self.limit])
        next_cursor = None
        if len(rows) > self.limit:
            next_cursor = encode_cursor(self._listing, self._filters, key(items[-1]))
            url = self.request.url.include_query_params(cursor=next_cursor, limit=self.limit)
            self.response.headers["Link"] = f'<{url}>; rel="next"'
        return Page[T](items=items, next_cursor=next_cursor)


async def _page_request(
    request: Request,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2000, description="The `next_cursor` of the previous page")] = None,
) -> PageRequest:
    return PageRequest(request, response, limit, cursor)


Paged = Annotated[PageRequest, Depends(_page_request)]

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "InvalidCursor",
    "KeyKind",
    "Page",
    "PageRequest",
    "Paged",
    "bigint",
    "decode_cursor",
    "encode_cursor",
    "instant",
    "text",
    "typed_key",
    "uuid_key",
]
