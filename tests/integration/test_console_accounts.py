"""Issue 20 in the console, against the real partners service and PostgreSQL over TCP: a
person logs in with their password and their TOTP code, the console refreshes their token
and logs them out (here and everywhere); each role meets its own navigation and a 403 page
for the others' pages; failed logins are throttled by the console itself; and a person
logs in through a real OpenID Connect provider on its own port (authorisation code, PKCE,
state and nonce), partners checking the ID token against the provider's keys."""

import re
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from fastapi import FastAPI

from regia_console.feed import EventFeed
from regia_console.settings import ConsoleSettings
from regia_console.web import create_app as create_console
from regia_partners.app import create_app as create_partners

from ..support.oidc_provider import CLIENT_ID, CLIENT_SECRET, TEST_USER_SUB, Provider, oidc_provider
from ..support.services import ADMIN_HEADERS, RunningService, in_process

pytestmark = pytest.mark.usefixtures("service_env")
PASSWORD = "una frase lunga e segreta"


class QuietFeed(EventFeed):
    def start(self) -> None:  # the live feed is not what these tests are about
        pass


async def make(partners: httpx.AsyncClient, account_id: str, role: str, **extra: object) -> dict:
    body = {"account_id": account_id, "name": f"{account_id.title()} Rossi", "role": role, **extra}
    body.setdefault("password", PASSWORD)
    r = await partners.post("/v1/accounts", json=body, headers=ADMIN_HEADERS)
    assert r.status_code == 201, r.text
    return r.json()


def console_app(partners: RunningService, **settings: object):  # type: ignore[no-untyped-def]
    dead = "http://127.0.0.1:9"  # the other services are not running: their parts are gaps
    config = ConsoleSettings(
        partners_url=partners.url, funding_url=dead, objectives_url=dead, notifier_url=dead, **settings
    )
    return create_console(config, feed=QuietFeed("unused:0", []))


async def log_in(console: httpx.AsyncClient, login: str, password: str = PASSWORD) -> httpx.Response:
    return await console.post("/login", data={"login": login, "password": password, "next": "/"})


def nav_of(page: str) -> list[str]:
    nav = re.search(r"<nav>(.*?)</nav>", page, re.S)
    return re.findall(r'href="([^"]+)"', nav.group(1)) if nav else []


@pytest.fixture
async def system(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[RunningService, RunningService, FastAPI]]:
    monkeypatch.setenv("REGIA_TRUSTED_PROXIES", "127.0.0.1/32")  # the console forwards people's addresses
    async with in_process("partners", create_partners) as partners:
        app = console_app(partners, console_login_burst=3)
        async with in_process("console", lambda: app) as console:
            yield partners, console, app


async def test_a_person_logs_in_with_a_code_sees_their_role_and_logs_out_everywhere(
    system: tuple[RunningService, RunningService, FastAPI],
) -> None:
    partners_service, console_service, app = system
    async with partners_service.client() as partners:
        await make(partners, "anna", "administrator")
        await make(partners, "oscar", "observer")
        # Anna enrols a second factor with her own session.
        first = (await partners.post("/v1/sessions", json={"login": "anna", "password": PASSWORD})).json()
        own = {"Authorization": f"Bearer {first['access_token']}"}
        secret = (await partners.post("/v1/account/totp", headers=own)).json()["secret"]
        r = await partners.post("/v1/account/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=own)
        assert r.status_code == 200, r.text

    async with console_service.client() as console:
        wrong = await log_in(console, "anna", "not her password at all")
        assert wrong.status_code == 401 and "Nome utente o password errati." in wrong.text
        asked = await log_in(console, "anna")
        assert asked.status_code == 200 and 'name="code"' in asked.text, asked.text
        assert PASSWORD not in asked.text and "set-cookie" in asked.headers  # the pending login, not the password
        bad = await console.post("/login/code", data={"code": "000000"})
        assert bad.status_code == 401 and "Codice errato" in bad.text
        # A code of a later step than any used: good once.
        code = pyotp.TOTP(secret).at(time.time() + 30)
        done = await console.post("/login/code", data={"code": code})
        assert done.status_code == 303 and done.headers["location"] == "/", done.text
        cookie = console.cookies.get("regia_console_session")
        assert cookie and cookie not in done.text
        accounts = await console.get("/accounts")
        assert accounts.status_code == 200, accounts.text
        assert 'id="who-name">Anna Rossi<' in accounts.text and 'data-role="administrator"' in accounts.text
        assert 'data-account="oscar"' in accounts.text and "/accounts" in nav_of(accounts.text)
        csrf = re.search(r'name="csrf" value="([^"]+)"', accounts.text).group(1)  # type: ignore[union-attr]
        # An administrator makes an account with its role through the console.
        made = await console.post(
            "/accounts",
            data={
                "csrf": csrf,
                "account_id": "ivo",
                "name": "Ivo",
                "role": "observer",
                "password": PASSWORD,
                "reason": "Revisore dei conti, nomina 2026",
            },
        )
        assert made.status_code == 303, made.text
        assert 'data-account="ivo"' in (await console.get("/accounts")).text

        ended = await console.post("/logout/everywhere", data={"csrf": csrf})
        assert ended.status_code == 303 and ended.headers["location"] == "/login"
        assert (await console.get("/accounts")).status_code == 303  # to the login page

    async with console_service.client() as console:
        assert (await log_in(console, "oscar")).status_code == 303
        page = await console.get("/dead-letters")
        assert page.status_code == 200 and "/dead-letters/retry" not in page.text  # observers write nothing
        assert "/accounts" not in nav_of(page.text) and "osservatore" in page.text
        forbidden = await console.get("/accounts")
        assert forbidden.status_code == 403 and 'id="forbidden"' in forbidden.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        refused = await console.post("/dead-letters/retry", data={"csrf": csrf, "all": "1"})
        assert refused.status_code == 403
        assert (await console.post("/logout", data={"csrf": csrf})).status_code == 303
        assert (await console.get("/dead-letters")).status_code == 303


async def test_the_console_refreshes_a_token_before_it_expires_and_a_session_ended_elsewhere_ends_here(
    system: tuple[RunningService, RunningService, FastAPI],
) -> None:
    partners_service, console_service, app = system
    async with partners_service.client() as partners:
        await make(partners, "rita", "observer")
    async with console_service.client() as console:
        assert (await log_in(console, "rita")).status_code == 303
        # The console's own memory: the token is made to look about to expire.
        (app_sessions,) = app.state.sessions._by_id.values()
        before = app_sessions.refresh_token
        app_sessions.token_expires_at = time.monotonic() + 5
        assert (await console.get("/dead-letters")).status_code == 200
        assert app_sessions.refresh_token != before and not app_sessions.needs_refresh()
        # An administrator ends her sessions in partners: the next refresh fails, and she logs in again.
        async with partners_service.client() as partners:
            r = await partners.delete("/v1/accounts/rita/sessions", headers=ADMIN_HEADERS)
            assert r.status_code == 200 and r.json()["ended"] == 1, r.text
        app_sessions.token_expires_at = time.monotonic() + 5
        again = await console.get("/dead-letters")
        assert again.status_code == 303 and again.headers["location"].startswith("/login?next=")


async def test_failed_logins_are_throttled_by_the_console_before_partners_is_asked(
    system: tuple[RunningService, RunningService, FastAPI],
) -> None:
    partners_service, console_service, app = system
    async with partners_service.client() as partners:
        await make(partners, "bea", "observer")
    async with console_service.client() as console:
        # A burst of 3 (the fixture's setting): three wrong logins are asked of partners...
        for n in range(3):
            r = await log_in(console, f"nobody-{n}", "wrong password here")
            assert r.status_code == 401, r.text
        # ...the fourth failure is one too many, and from then on not even the right password goes through.
        r = await log_in(console, "nobody-4", "wrong password here")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1, r.text
        assert "Troppi accessi falliti da questo indirizzo" in r.text
        r = await log_in(console, "bea")
        assert r.status_code == 429 and "set-cookie" not in r.headers
    async with partners_service.client() as partners:
        # Partners never saw the right password: bea has no session.
        listed = (await partners.get("/v1/accounts/bea", headers=ADMIN_HEADERS)).json()
        assert listed["locked_until"] is None
        r = await partners.post("/v1/sessions", json={"login": "bea", "password": PASSWORD})
        me = await partners.get("/v1/account", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
        assert len(me.json()["sessions"]) == 1  # only the one just opened here


async def test_a_person_logs_in_through_the_openid_connect_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    async with oidc_provider() as (provider, idp):
        monkeypatch.setenv("REGIA_OIDC_ISSUER", idp.url)
        monkeypatch.setenv("REGIA_OIDC_CLIENT_ID", CLIENT_ID)
        async with in_process("partners", create_partners) as partners_service:
            async with partners_service.client() as partners:
                await make(partners, "sara", "observer", oidc_subject=TEST_USER_SUB, password=None)
            settings = {
                "console_oidc_issuer": idp.url,
                "console_oidc_client_id": CLIENT_ID,
                "console_oidc_client_secret": CLIENT_SECRET,
            }
            async with in_process("console", lambda: console_app(partners_service, **settings)) as console_service:
                await walk_the_code_flow(provider, console_service)


async def walk_the_code_flow(provider: Provider, console_service: RunningService) -> None:
    async with httpx.AsyncClient(timeout=10.0) as browser:
        page = await browser.get(f"{console_service.url}/login")
        assert 'id="login-oidc"' in page.text and "SPID/CIE" in page.text
        start = await browser.get(f"{console_service.url}/login/oidc?next=/dead-letters")
        assert start.status_code == 303
        authorize = start.headers["location"]
        assert authorize.startswith(f"{provider.issuer}/authorize?")
        asked = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
        assert asked["code_challenge_method"] == "S256" and asked["nonce"] and asked["state"]
        assert asked["redirect_uri"] == f"{console_service.url}/login/oidc/callback"
        back = await browser.get(authorize)  # the provider logs the test user in at once
        assert back.status_code == 302
        callback = back.headers["location"]
        # A callback with another state is refused, and spends the flow.
        forged = callback.replace(f"state={asked['state']}", "state=forged")
        refused = await browser.get(forged)
        assert refused.status_code == 400 and browser.cookies.get("regia_console_session") is None
        # Again from the start: the real callback logs Sara in.
        start = await browser.get(f"{console_service.url}/login/oidc?next=/dead-letters")
        back = await browser.get(start.headers["location"])
        landed = await browser.get(back.headers["location"])
        assert landed.status_code == 200, landed.text
        assert 'http-equiv="refresh"' in landed.text and "/dead-letters" in landed.text
        assert provider.token_requests[-1]["grant_type"] == "authorization_code"
        page = await browser.get(f"{console_service.url}/dead-letters")
        assert page.status_code == 200 and 'id="who-name">Sara Rossi<' in page.text, page.text
        # The same callback again finds no flow: codes and flows are good once.
        replay = await browser.get(back.headers["location"])
        assert replay.status_code == 400
