"""The one paging style: keyset cursors bound to their listing and filters."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from regia_shared.http.errors import install_error_handlers
from regia_shared.http.paging import Page, Paged, decode_cursor, encode_cursor

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
