"""`regia dead-letters` against a stand-in notifier (httpx MockTransport): what it asks for,
with the admin token, and how it words the answers and mistakes."""

import json

import httpx
import pytest
from typer.testing import CliRunner

from regia.cli import app
from regia.operator import dead_letters
from regia.operator.admin import ServiceClient

runner = CliRunner()
TOKEN = "a-secret-admin-token"
DEAD = "0b6f4a52-3f43-4c39-9d8e-3c8a5c1f0a01"
DELIVERED = "0b6f4a52-3f43-4c39-9d8e-3c8a5c1f0a02"
NOBODY = "0b6f4a52-3f43-4c39-9d8e-3c8a5c1f0a03"
OLDER = "0b6f4a52-3f43-4c39-9d8e-3c8a5c1f0a04"


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """Every request the CLI sent; the stand-in answers as the notifier would."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"error": "unauthorized", "message": "invalid admin credentials"})
        if request.method == "GET":
            # Two pages, as the notifier pages: the second follows the first's next_cursor.
            second = request.url.params.get("cursor") == "page-2"
            row = {
                "delivery_id": OLDER if second else DEAD,
                "channel": "email",
                "attempts": 3,
                "recipient": "maria@example.it",
                "finished_at": "2026-11-25T10:00:00+00:00",
                "last_error": "550 5.1.1 no such user" if second else "451 4.3.0 try later",
            }
            return httpx.Response(200, json={"items": [row], "next_cursor": None if second else "page-2"})
        asked = json.loads(request.content)
        if asked.get("all"):
            return httpx.Response(200, json={"retried": [DEAD], "not_dead": [], "unknown": []})
        ids = asked["delivery_ids"]
        return httpx.Response(
            200,
            json={
                "retried": [i for i in ids if i == DEAD],
                "not_dead": [i for i in ids if i == DELIVERED],
                "unknown": [i for i in ids if i == NOBODY],
            },
        )

    def client() -> ServiceClient:
        service = ServiceClient("notifier", "http://notifier.test", dead_letters.admin_token_from_env())
        service._http = httpx.Client(
            base_url=service.base_url, transport=httpx.MockTransport(answer), headers=service._http.headers
        )
        return service

    monkeypatch.setattr(dead_letters, "notifier_client", client)
    monkeypatch.setenv("REGIA_ADMIN_TOKEN", TOKEN)
    return seen


def test_help_says_what_the_commands_need() -> None:
    result = runner.invoke(app, ["dead-letters", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for text in ("list", "retry", "REGIA_ADMIN_TOKEN", "REGIA_NOTIFIER_URL"):
        assert text in result.output


def test_list_shows_each_dead_letter_with_its_last_error(received: list[httpx.Request]) -> None:
    result = runner.invoke(app, ["dead-letters", "list", "--channel", "email", "--contact", "rossi"])
    assert result.exit_code == 0, result.output
    assert DEAD in result.output and "451 4.3.0 try later" in result.output
    assert OLDER in result.output and "550 5.1.1 no such user" in result.output  # the second page
    first, second = received
    assert first.url.path == second.url.path == "/v1/dead-letters"
    assert dict(first.url.params) == {"channel": "email", "contact_id": "rossi", "limit": "100"}
    assert dict(second.url.params) == {"channel": "email", "contact_id": "rossi", "limit": "99", "cursor": "page-2"}


def test_list_stops_at_the_limit_asked(received: list[httpx.Request]) -> None:
    result = runner.invoke(app, ["dead-letters", "list", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert DEAD in result.output and OLDER not in result.output
    (request,) = received
    assert dict(request.url.params) == {"limit": "1"}


def test_retry_by_id_reports_what_became_of_each(received: list[httpx.Request]) -> None:
    result = runner.invoke(app, ["dead-letters", "retry", DEAD, DELIVERED, NOBODY])
    assert result.exit_code == 0, result.output
    assert "retried 1 dead delivery" in result.output
    assert f"{DELIVERED}: not dead" in result.output and f"{NOBODY}: no such delivery" in result.output
    (request,) = received
    assert request.method == "POST" and request.url.path == "/v1/dead-letters/retry"
    assert json.loads(request.content) == {"delivery_ids": [DEAD, DELIVERED, NOBODY]}


def test_retry_of_ids_none_of_which_was_dead_fails(received: list[httpx.Request]) -> None:
    result = runner.invoke(app, ["dead-letters", "retry", DELIVERED])
    assert result.exit_code == 1 and "retried 0 dead deliveries" in result.output


def test_retry_all_sends_the_filters(received: list[httpx.Request]) -> None:
    result = runner.invoke(app, ["dead-letters", "retry", "--all", "--objective", "miglio-blu"])
    assert result.exit_code == 0, result.output
    assert json.loads(received[0].content) == {"all": True, "objective_id": "miglio-blu"}


@pytest.mark.parametrize("args", [[], [DEAD, "--all"], [DEAD, "--channel", "email"]])
def test_retry_wants_ids_or_all_and_sends_nothing_otherwise(received: list[httpx.Request], args: list[str]) -> None:
    result = runner.invoke(app, ["dead-letters", "retry", *args])
    assert result.exit_code == 2 and "error:" in result.output
    assert received == []


def test_a_wrong_token_is_one_line_that_says_so(received: list[httpx.Request], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGIA_ADMIN_TOKEN", "wrong")
    result = runner.invoke(app, ["dead-letters", "list"])
    assert result.exit_code == 1 and "refused the admin token" in result.output


def test_without_a_token_it_says_which_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGIA_ADMIN_TOKEN", raising=False)
    result = runner.invoke(app, ["dead-letters", "retry", "--all"])
    assert result.exit_code == 1 and "REGIA_ADMIN_TOKEN" in result.output
