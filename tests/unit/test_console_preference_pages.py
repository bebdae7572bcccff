"""The pages an e-mail links to, against a stub of the partners service: a GET never
unsubscribes, the one-click POST does with either body RFC 8058 allows and nothing else,
a bad link is a clear 4xx that calls nothing it should not, and the preferences form is
in the reader's language, protected by its CSRF cookie."""

from collections.abc import Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient

from regia_console.gateway import LinkRefused, NotFound
from regia_console.settings import ConsoleSettings
from regia_console.web import create_app

from .test_console_web import StubFeed

TOKEN = "1.eyJ4Ijp9.c2lnbmVk"
KINDS = ["status_changed", "funding_dropped", "line_revoked", "review_closed"]


def own(purpose: str, language: str = "en", link_kinds: list[str] | None = None) -> dict:
    return {
        "contact_id": "smith",
        "name": "John <Smith>",
        "language": language,
        "purpose": purpose,
        "link_kinds": link_kinds or ["status_changed"],
        "kinds": [{"kind": k, "cadence": "off" if k == "line_revoked" else "immediate"} for k in KINDS],
        "cadences": ["immediate", "daily_digest", "weekly_digest", "off"],
    }


class StubPartners:
    """What the console's gateway would get from the partners service's link routes."""

    def __init__(self, purpose: str = "unsubscribe", refusal: Exception | None = None, language: str = "en") -> None:
        self.purpose, self.refusal, self.language = purpose, refusal, language
        self.calls: list[tuple[str, str, str, Mapping | None]] = []

    async def close(self) -> None:
        pass

    async def link(
        self, method: str, path: str, token: str, *, body: Mapping | None = None, client: str | None = None
    ) -> Any:
        self.calls.append((method, path, token, body))
        if self.refusal is not None:
            raise self.refusal
        return own(self.purpose, self.language)


def console(partners: StubPartners) -> TestClient:
    app = create_app(ConsoleSettings(admin_token_sha256=None), feed=StubFeed("127.0.0.1:1", (), 10))
    app.state.gateway = partners
    return TestClient(app)


def test_a_get_of_the_unsubscribe_link_only_asks_in_the_readers_language() -> None:
    partners = StubPartners()
    with console(partners) as client:
        page = client.get(f"/unsubscribe/{TOKEN}")
    assert page.status_code == 200
    assert partners.calls == [("GET", "/v1/link/preferences", TOKEN, None)]  # read, never changed
    html = page.text
    assert '<html lang="en">' in html and "Stop these alerts?" in html and "funding status changed" in html
    assert f'<form method="post" action="/unsubscribe/{TOKEN}">' in html
    assert 'name="List-Unsubscribe" value="One-Click"' in html
    assert "John &lt;Smith&gt;" in html and '<meta name="robots" content="noindex">' in html
    assert (
        page.headers["referrer-policy"] == "no-referrer"
        and "form-action 'self'" in page.headers["content-security-policy"]
    )
    assert 'href="/"' not in html.split("</header>")[0]  # no way into the administrators' console
    with console(StubPartners()) as client:
        assert '<html lang="it">' in client.get(f"/unsubscribe/{TOKEN}?lang=it").text  # asked for wins


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        ({"data": {"List-Unsubscribe": "One-Click"}}, {}),  # form-urlencoded
        ({"files": {"List-Unsubscribe": (None, "One-Click")}}, {}),  # multipart/form-data, RFC 8058's SHOULD
    ],
)
def test_the_one_click_post_unsubscribes_with_either_body(content: dict, headers: dict) -> None:
    partners = StubPartners()
    with console(partners) as client:
        done = client.post(f"/unsubscribe/{TOKEN}", headers=headers, **content)
    assert done.status_code == 200, done.text
    assert partners.calls == [("POST", "/v1/link/unsubscribe", TOKEN, None)]
    assert "Unsubscribed" in done.text and 'id="unsubscribed"' in done.text


@pytest.mark.parametrize(
    "content",
    [
        {},
        {"data": {"List-Unsubscribe": "Yes"}},
        {"content": b"List-Unsubscribe=One-Click", "headers": {"Content-Type": "text/plain"}},
        {"files": {"Something-Else": (None, "One-Click")}},
    ],
)
def test_a_post_without_the_one_click_body_changes_nothing(content: dict) -> None:
    partners = StubPartners()
    with console(partners) as client:
        refused = client.post(f"/unsubscribe/{TOKEN}", **content)
    assert refused.status_code == 400 and "List-Unsubscribe=One-Click" in refused.text
    assert partners.calls == []


@pytest.mark.parametrize(
    ("refusal", "status", "words"),
    [
        (LinkRefused("this is not a link Regia made", 401), 403, "This link does not work"),
        (LinkRefused("made on 2025-01-01", 401, expired=True), 410, "This link has expired"),
        (LinkRefused("this link only stops e-mails", 403), 403, "This link is not for this page"),
        (NotFound("the contact this link was made for no longer exists"), 404, "no longer registered"),
    ],
)
def test_a_link_the_partners_service_refuses_is_a_clear_4xx(refusal: Exception, status: int, words: str) -> None:
    with console(StubPartners(refusal=refusal)) as client:
        for response in (
            client.get(f"/unsubscribe/{TOKEN}?lang=en"),
            client.post(f"/unsubscribe/{TOKEN}?lang=en", data={"List-Unsubscribe": "One-Click"}),
            client.get(f"/preferences/{TOKEN}?lang=en"),
        ):
            assert response.status_code == status and words in response.text, response.text


def test_a_mangled_token_never_reaches_the_partners_service() -> None:
    partners = StubPartners()
    with console(partners) as client:
        for path in ("/unsubscribe/1.a%0D%0AX-Evil:%201.b", "/preferences/" + "A" * 1001, "/unsubscribe/1.a%20b.c"):
            response = client.get(path)
            assert response.status_code == 403 and "link" in response.text.lower(), path
        assert client.post("/unsubscribe/1.a%0Ab.c", data={"List-Unsubscribe": "One-Click"}).status_code == 403
    assert partners.calls == []


def test_each_link_opens_only_its_own_page() -> None:
    with console(StubPartners(purpose="preferences")) as client:
        assert client.get(f"/unsubscribe/{TOKEN}?lang=en").status_code == 403
    with console(StubPartners(purpose="unsubscribe")) as client:
        assert client.get(f"/preferences/{TOKEN}?lang=en").status_code == 403


def test_the_preferences_form_shows_each_kind_and_saves_only_with_its_csrf_cookie() -> None:
    partners = StubPartners(purpose="preferences", language="it")
    with console(partners) as client:
        page = client.get(f"/preferences/{TOKEN}")
        assert page.status_code == 200 and '<html lang="it">' in page.text  # the e-mails' language
        html = page.text
        for kind in KINDS:
            assert f'<select id="kind-{kind}" name="kind.{kind}">' in html
        assert '<option value="off" selected>Non riceverlo</option>' in html
        assert "Nel riepilogo della settimana" in html and 'name="viewport"' in html
        cookie = page.cookies.get("regia_prefs_csrf")
        assert cookie and f'name="csrf" value="{cookie}"' in html
        assert "samesite=strict" in page.headers["set-cookie"].lower()
        assert "httponly" in page.headers["set-cookie"].lower()

        form = {f"kind.{k}": "weekly_digest" for k in KINDS} | {"language": "en"}
        assert client.post(f"/preferences/{TOKEN}", data=form).status_code == 403  # no csrf field
        assert client.post(f"/preferences/{TOKEN}", data={**form, "csrf": "forged"}).status_code == 403
        client.cookies.clear()
        assert client.post(f"/preferences/{TOKEN}", data={**form, "csrf": cookie}).status_code == 403  # no cookie
        assert [c[0] for c in partners.calls] == ["GET"]

        client.cookies.set("regia_prefs_csrf", cookie, path="/preferences/")
        saved = client.post(f"/preferences/{TOKEN}", data={**form, "csrf": cookie}, follow_redirects=False)
        assert saved.status_code == 303 and saved.headers["location"] == f"/preferences/{TOKEN}?saved=1"
        assert partners.calls[-1] == (
            "PUT",
            "/v1/link/preferences",
            TOKEN,
            {"kinds": dict.fromkeys(KINDS, "weekly_digest"), "language": "en"},
        )
        again = client.get(saved.headers["location"])
        assert 'id="saved"' in again.text and again.cookies.get("regia_prefs_csrf") in (None, cookie)
