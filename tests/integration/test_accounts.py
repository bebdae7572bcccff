"""Issue 20, people with names: accounts made by an administrator, logins with argon2id
passwords and TOTP, throttled and locked-out guessing, sessions that are refreshed, spent,
ended and ended everywhere — against the real partners service and PostgreSQL."""

import time

import httpx
import pyotp
import pytest

from regia_partners.app import create_app

from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, ADMIN_TOKEN, in_process

pytestmark = pytest.mark.usefixtures("service_env")
PASSWORD = "una frase lunga e segreta"
ADMIN_HEADERS_NO_REASON = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def partners(service_env, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("REGIA_LOGIN_LOCKOUT_S", "600")
    async with in_process("partners", create_app) as service:
        async with service.client() as anonymous:
            yield anonymous


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make(partners: httpx.AsyncClient, account_id: str, role: str = "observer", **extra: object) -> None:
    body = {"account_id": account_id, "name": account_id.title(), "role": role, "password": PASSWORD, **extra}
    r = await partners.post("/v1/accounts", json=body, headers=ADMIN_HEADERS)
    assert r.status_code == 201, r.text


async def log_in(partners: httpx.AsyncClient, login: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    return await partners.post("/v1/sessions", json={"login": login, "password": password, **extra})


async def test_an_administrator_makes_accounts_that_fit_their_role(partners: httpx.AsyncClient) -> None:
    base = {"name": "Anna", "password": PASSWORD}
    r = await partners.post(
        "/v1/accounts", json={**base, "account_id": "anna", "role": "institution_officer"}, headers=ADMIN_HEADERS
    )
    assert r.status_code == 422 and "institution_id" in r.json()["message"], r.text
    r = await partners.post(
        "/v1/accounts",
        json={**base, "account_id": "anna", "role": "observer", "password": "corta"},
        headers=ADMIN_HEADERS,
    )
    assert r.status_code == 422 and "12 characters" in r.json()["message"], r.text
    r = await partners.post(
        "/v1/accounts",
        json={**base, "account_id": "anna", "role": "project_lead", "partner_id": "nessuno"},
        headers=ADMIN_HEADERS,
    )
    assert r.status_code == 404 and r.json()["error"] == "partner_not_found", r.text
    r = await partners.post("/v1/accounts", json={**base, "account_id": "anna", "role": "observer"})
    assert r.status_code == 401, r.text  # no credential: nobody makes accounts anonymously
    await make(partners, "anna")
    r = await partners.post(
        "/v1/accounts", json={**base, "account_id": "anna", "role": "observer"}, headers=ADMIN_HEADERS
    )
    assert r.status_code == 409, r.text
    shown = (await partners.get("/v1/accounts/anna", headers=ADMIN_HEADERS)).json()
    assert shown["role"] == "observer" and shown["has_password"] and not shown["totp_enabled"]
    assert "password" not in str(shown).replace("has_password", "")


async def test_a_person_logs_in_refreshes_and_logs_out(partners: httpx.AsyncClient, database: Database) -> None:
    await make(partners, "bruno")
    r = await log_in(partners, "bruno")
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["account"]["role"] == "observer" and first["token_type"] == "Bearer"
    assert r.headers["cache-control"] == "no-store"
    me = await partners.get("/v1/account", headers=bearer(first["access_token"]))
    assert me.status_code == 200 and me.json()["account"]["account_id"] == "bruno", me.text
    assert len(me.json()["sessions"]) == 1
    # Nothing of the password is stored but its argon2id hash.
    stored = await database.fetchval("partners", "SELECT password_hash FROM accounts WHERE account_id = 'bruno'")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored

    r = await partners.post("/v1/sessions/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["account"]["session_id"] == first["account"]["session_id"]
    # The spent refresh token, presented again, ends the session: the newer one stops too.
    r = await partners.post("/v1/sessions/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"] == "session_ended", r.text
    r = await partners.post("/v1/sessions/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401, r.text

    third = (await log_in(partners, "bruno")).json()
    r = await partners.delete("/v1/sessions/current", headers=bearer(third["access_token"]))
    assert r.status_code == 200 and r.json()["ended"] is True, r.text
    r = await partners.post("/v1/sessions/refresh", json={"refresh_token": third["refresh_token"]})
    assert r.status_code == 401, r.text


async def test_logout_everywhere_and_a_role_change_end_every_session(
    partners: httpx.AsyncClient, database: Database
) -> None:
    await make(partners, "carla")
    phone = (await log_in(partners, "carla")).json()
    laptop = (await log_in(partners, "carla")).json()
    r = await partners.delete("/v1/sessions", headers=bearer(laptop["access_token"]))
    assert r.status_code == 200 and r.json()["ended"] == 2, r.text
    for session in (phone, laptop):
        r = await partners.post("/v1/sessions/refresh", json={"refresh_token": session["refresh_token"]})
        assert r.status_code == 401, r.text

    tablet = (await log_in(partners, "carla")).json()
    r = await partners.patch("/v1/accounts/carla", json={"role": "administrator"}, headers=ADMIN_HEADERS_NO_REASON)
    assert r.status_code == 422 and r.json()["error"] == "reason_required", r.text
    why = {**ADMIN_HEADERS_NO_REASON, "X-Regia-Reason": "Nomina a dirigente (decreto 3/2026)"}
    r = await partners.patch("/v1/accounts/carla", json={"role": "administrator"}, headers=why)
    assert r.status_code == 200 and r.json()["role"] == "administrator", r.text
    # Who gave whom which role, and why, in the change's own transaction.
    (audited,) = await database.fetch(
        "partners",
        "SELECT actor, channel, reason, subject, effect FROM audit_log WHERE subject = 'account:carla'"
        " AND method = 'PATCH'",
    )
    assert (audited["actor"], audited["channel"], audited["reason"]) == (
        "admin",
        "http",
        "Nomina a dirigente (decreto 3/2026)",
    )
    assert '"administrator"' in audited["effect"] and '"observer"' in audited["effect"]
    r = await partners.post("/v1/sessions/refresh", json={"refresh_token": tablet["refresh_token"]})
    assert r.status_code == 401, r.text  # the old session said observer: it is over
    again = (await log_in(partners, "carla")).json()
    assert again["account"]["role"] == "administrator"
    # Disabled: nobody logs in with it, with the same answer as a wrong password.
    r = await partners.patch("/v1/accounts/carla", json={"disabled": True}, headers=ADMIN_HEADERS)
    assert r.status_code == 200, r.text
    r = await log_in(partners, "carla")
    assert r.status_code == 401 and r.json()["error"] == "invalid_credentials", r.text


async def test_guessing_is_answered_alike_and_locks_the_account(partners: httpx.AsyncClient) -> None:
    await make(partners, "dario")
    unknown = await log_in(partners, "nessuno", "qualunque cosa davvero")
    wrong = await log_in(partners, "dario", "qualunque cosa davvero")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["message"] == wrong.json()["message"] == "wrong login or password"
    await log_in(partners, "dario", "ancora sbagliata sì")
    r = await log_in(partners, "dario", "la terza sbagliata!")  # the third failure locks it
    assert r.status_code == 401, r.text
    r = await log_in(partners, "dario")  # even the right password now
    assert r.status_code == 429 and r.json()["error"] == "login_locked", r.text
    assert 0 < int(r.headers["retry-after"]) <= 600
    r = await partners.post("/v1/accounts/dario/unlock", headers=ADMIN_HEADERS)
    assert r.status_code == 200, r.text
    assert (await log_in(partners, "dario")).status_code == 201


async def test_totp_is_asked_once_enrolled_and_a_code_works_once(
    partners: httpx.AsyncClient, database: Database
) -> None:
    await make(partners, "elena")
    token = (await log_in(partners, "elena")).json()["access_token"]
    begun = (await partners.post("/v1/account/totp", headers=bearer(token))).json()
    totp = pyotp.TOTP(begun["secret"])
    assert begun["otpauth_uri"].startswith("otpauth://totp/Regia:elena")
    r = await partners.post(
        "/v1/account/totp/confirm",
        json={"code": "000000" if totp.now() != "000000" else "111111"},
        headers=bearer(token),
    )
    assert r.status_code == 422, r.text
    r = await partners.post("/v1/account/totp/confirm", json={"code": totp.now()}, headers=bearer(token))
    assert r.status_code == 200, r.text
    stored = await database.fetchval("partners", "SELECT totp_secret FROM accounts WHERE account_id = 'elena'")
    assert begun["secret"].encode() not in bytes(stored)  # encrypted at rest

    r = await log_in(partners, "elena")
    assert r.status_code == 401 and r.json()["error"] == "totp_required", r.text
    # A fresh step, so the code was not spent by the enrolment.
    step = int(time.time()) // 30
    code = totp.at((step + 1) * 30)
    r = await log_in(partners, "elena", totp=code)
    assert r.status_code == 201, r.text
    r = await log_in(partners, "elena", totp=code)
    assert r.status_code == 401 and r.json()["field"] == "totp", r.text  # the same code again


async def test_the_admin_token_is_no_person_and_a_forged_token_is_nobody(partners: httpx.AsyncClient) -> None:
    r = await partners.get("/v1/account", headers=ADMIN_HEADERS)
    assert r.status_code == 422 and "log in as a person" in r.json()["message"], r.text
    await make(partners, "fabio")
    token = (await log_in(partners, "fabio")).json()["access_token"]
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert (await partners.get("/v1/account", headers=bearer(forged))).status_code == 401
    # An observer may not manage people.
    r = await partners.get("/v1/accounts", headers=bearer(token))
    assert r.status_code == 403 and "observer" in r.json()["message"], r.text
