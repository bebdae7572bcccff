"""The one paging style: keyset cursors bound to their listing and filters."""

from datetime import UTC, datetime
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from regia_shared.http.errors import install_error_handlers
from regia_shared.http.paging import (
    InvalidCursor,
    Page,
    Paged,
    bigint,
    decode_cursor,
    encode_cursor,
    instant,
    text,
    typed_key,
    uuid_key,
)

ROWS = [{"name": f"n{i:03d}", "id": i} for i in range(7)]


def app() -> FastAPI:
    api = FastAPI()
    install_error_handlers(api)

    @api.get("/things")
    def things(page: Paged, kind: str | None = None) -> Page[dict]:
        after = page.after("things", {"kind": kind})
        rows = [r for r in ROWS if after is None or (r["name"], r["id"]) > tuple(after)]
        return page.of(rows[: page.limit + 1], key=lambda r: (r["name"], r["id"]))

    return api


def test_walking_every_page_returns_each_row_once_and_the_last_page_says_so() -> None:
    client, seen, cursor, pages = TestClient(app()), [], None, 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        answer = client.get("/things", params=params)
        assert answer.status_code == 200
        body = answer.json()
        seen += [r["id"] for r in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            assert "Link" not in answer.headers
            break
        assert 'rel="next"' in answer.headers["Link"] and cursor in answer.headers["Link"]
    assert seen == list(range(7)) and pages == 3


def test_a_cursor_replayed_under_other_filters_or_forged_is_refused_naming_it() -> None:
    client = TestClient(app())
    cursor = client.get("/things", params={"limit": 2}).json()["next_cursor"]
    for params in (
        {"cursor": cursor, "kind": "x"},
        {"cursor": "not-a-cursor!"},
        {"cursor": encode_cursor("other", {}, [1])},
    ):
        answer = client.get("/things", params=params)
        assert answer.status_code == 422, params
        assert answer.json()["field"] == "cursor"


def test_a_cursor_round_trips_its_key() -> None:
    assert decode_cursor(encode_cursor("l", {"a": 1, "b": None}, ["x", 2]), "l", {"a": 1}) == ["x", 2]


def test_a_key_is_converted_to_what_the_predicate_binds_or_the_cursor_refused() -> None:
    at = datetime(2026, 12, 5, 22, 0, 0, 123456, tzinfo=UTC)
    uid = "0b6f4a52-3f43-4c39-9d8e-3c8a5c1f0a01"
    assert typed_key([at.isoformat(), uid, "r", 7], (instant, uuid_key, text, bigint)) == [at, UUID(uid), "r", 7]
    for key, kinds in (
        ([at.isoformat()], (instant, text)),  # too short
        (["2026-12-05T22:00:00"], (instant,)),  # no zone: which instant?
        ([2**63], (bigint,)),
        ([True], (bigint,)),
        (["7"], (bigint,)),
        (["a\x00b"], (text,)),
        (["\ud800"], (text,)),
        ([5], (uuid_key,)),
        (["not-a-uuid"], (uuid_key,)),
    ):
        with pytest.raises(InvalidCursor) as refused:
            typed_key(key, kinds)
        assert refused.value.field == "cursor" and refused.value.status == 422
