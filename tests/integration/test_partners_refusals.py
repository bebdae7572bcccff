"""Every way the partners service refuses a command, answered byte for byte the same:
the status of the refusal, `Content-Type: application/json` with its length, and the one
error shape `{"error", "message", "field", "details"}` with the message and field the
domain gave. Pinned on the raw bytes, so who renders the refusal (a route or the shared
error handler, regia_shared.http.errors) can change without a client seeing any difference."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
import pytest

from regia_partners.app import create_app
from regia_partners.domain import accounts, errors
from regia_shared.contracts.preference_links import PreferenceLink, sign

from ..support.partners import objectives_known
from ..support.services import ADMIN_HEADERS, PREFERENCE_LINK_KEY, in_process

pytestmark = pytest.mark.usefixtures("service_env")

LIGURIA = {"partner_id": "regione-liguria", "name": "Regione Liguria", "kind": "INSTITUTION", "level": "REGIONE"}
CISL = {"partner_id": "cisl", "name": "CISL", "kind": "TRADE_UNION"}
RETE = {"network_id": "rete", "name": "Rete", "founded_on": "2017-03-01"}
ROSSI = {"contact_id": "rossi", "name": "Maria Rossi", "email": "maria.rossi@regione.liguria.it"}
PASSWORD = "una frase lunga e segreta"


@dataclass(frozen=True)
class Linked:
    """A request a link of an e-mail authorises: its token instead of the admin's."""

    token: str
    body: dict | None = None


def link(purpose: str) -> str:
    made = PreferenceLink("rossi", purpose, ("status_changed",), datetime.now(UTC).date())  # type: ignore[arg-type]
    return sign(made, PREFERENCE_LINK_KEY.encode())


# (method, path, body or query, the refusal it meets, status, exact body)
CASES = [
    (
        "POST",
        "/v1/partners",
        {**LIGURIA, "name": "Other"},
        errors.Conflict,
        409,
        b'{"error":"conflict","message":"partner \'regione-liguria\' is already registered with other'
        b' data","field":"partner_id","details":[]}',
    ),
    (
        "POST",
        "/v1/partners",
        {**LIGURIA, "partner_id": "x", "level": None},
        errors.InvalidPartner,
        422,
        b'{"error":"invalid_partner","message":"an INSTITUTION needs its level of government",'
        b'"field":"level","details":[]}',
    ),
    (
        "POST",
        "/v1/partners/nobody/contacts",
        ROSSI,
        errors.PartnerNotFound,
        404,
        b'{"error":"partner_not_found","message":"no partner \'nobody\'","field":"partner_id","details":[]}',
    ),
    (
        "POST",
        "/v1/partners/regione-liguria/contacts",
        {**ROSSI, "name": "Anna Bianchi"},
        errors.Conflict,
        409,
        b'{"error":"conflict","message":"contact \'rossi\' already exists with other data",'
        b'"field":"contact_id","details":[]}',
    ),
    (
        "PUT",
        "/v1/objectives/mare/lead",
        {"partner_id": "nobody"},
        errors.PartnerNotFound,
        404,
        b'{"error":"partner_not_found","message":"no partner \'nobody\'","field":"partner_id","details":[]}',
    ),
    (
        "PUT",
        "/v1/objectives/nowhere/lead",
        {"partner_id": "cisl"},
        errors.ObjectiveNotFound,
        404,
        b'{"error":"objective_not_found","message":"no objective or plan node \'nowhere\' is known to the partners'
        b" service. If it was defined moments ago, the partners service may not have learnt it yet (it does from"
        b' the objectives service\'s events, within seconds): retry shortly","field":"objective_id","details":[]}',
    ),
    (
        "PATCH",
        "/v1/contacts/bianchi",
        {"name": "Anna Bianchi"},
        errors.ContactErased,
        410,
        b'{"error":"contact_erased","message":"contact \'bianchi\' was erased on request and cannot be changed",'
        b'"field":null,"details":[]}',
    ),
    (
        "PUT",
        "/v1/objectives/mare/roles/cisl",
        {"role": "LEAD"},
        errors.InvalidPartner,
        422,
        b'{"error":"invalid_partner","message":"the lead is assigned with PUT /v1/objectives/{objective_id}'
        b'/lead","field":"role","details":[]}',
    ),
    (
        "DELETE",
        "/v1/objectives/mare/roles/nobody",
        {"role": "PARTNER"},
        errors.PartnerNotFound,
        404,
        b'{"error":"partner_not_found","message":"no partner \'nobody\'","field":"partner_id","details":[]}',
    ),
    (
        "PUT",
        "/v1/contacts/nobody/preferences",
        {"channels": ["email"]},
        errors.NotFound,
        404,
        b'{"error":"not_found","message":"no contact \'nobody\'","field":"contact_id","details":[]}',
    ),
    (
        "POST",
        "/v1/networks",
        {**RETE, "name": "Altra"},
        errors.Conflict,
        409,
        b'{"error":"conflict","message":"network \'rete\' already exists with other data",'
        b'"field":"network_id","details":[]}',
    ),
    (
        "PUT",
        "/v1/networks/nowhere/members/cisl",
        {"joined_on": "2019-01-01"},
        errors.NotFound,
        404,
        b'{"error":"not_found","message":"no network \'nowhere\'","field":"network_id","details":[]}',
    ),
    (
        "PUT",
        "/v1/networks/rete/members/cisl",
        {"joined_on": "2016-01-01"},
        errors.InvalidPartner,
        422,
        b'{"error":"invalid_partner","message":"the network was founded on 2017-03-01",'
        b'"field":"joined_on","details":[]}',
    ),
    (
        "DELETE",
        "/v1/networks/rete/members/regione-liguria",
        {"left_on": "2019-01-01"},
        errors.NotFound,
        404,
        b'{"error":"not_found","message":"\'regione-liguria\' was never a member","field":"partner_id","details":[]}',
    ),
    (
        "POST",
        "/v1/link/unsubscribe",
        Linked("1.bm90.c2lnbmVk"),
        errors.LinkRefused,
        401,
        b'{"error":"invalid_link","message":"this is not a link Regia made, or it was made with a key no longer'
        b' in use","field":null,"details":[]}',
    ),
    (
        "PUT",
        "/v1/link/preferences",
        Linked(link("unsubscribe"), {"kinds": {"status_changed": "immediate"}}),
        errors.LinkNotForThis,
        403,
        b'{"error":"forbidden","message":"this link only stops e-mails; change your preferences with the link'
        b' at the foot of the e-mail","field":null,"details":[]}',
    ),
    (
        "GET",
        "/v1/account",
        None,
        accounts.AccountRefused,
        422,
        b'{"error":"invalid_account","message":"the admin token has no account of its own: log in as a person",'
        b'"field":null,"details":[]}',
    ),
    (
        "PATCH",
        "/v1/accounts/nessuno",
        {"name": "Nessuno"},
        accounts.AccountNotFound,
        404,
        b'{"error":"account_not_found","message":"no account \'nessuno\'","field":"account_id","details":[]}',
    ),
    (
        "POST",
        "/v1/sessions",
        {"login": "nessuno", "password": "qualunque cosa"},
        accounts.LoginRefused,
        401,
        b'{"error":"invalid_credentials","message":"wrong login or password","field":"login","details":[]}',
    ),
    (
        "POST",
        "/v1/sessions",
        {"login": "doppio", "password": PASSWORD},
        accounts.TotpRequired,
        401,
        b'{"error":"totp_required","message":"this account has a second factor: send the 6-digit code as totp",'
        b'"field":"totp","details":[]}',
    ),
    (
        "POST",
        "/v1/sessions",
        {"login": "bloccato", "password": PASSWORD},
        accounts.LoginLocked,
        429,
        b'{"error":"login_locked","message":"too many failed logins for this account: it is locked for a while'
        b' (Retry-After says how many seconds); an administrator can unlock it sooner","field":null,"details":[]}',
    ),
    (
        "POST",
        "/v1/sessions/refresh",
        {"refresh_token": "non-un-token"},
        accounts.SessionRefused,
        401,
        b'{"error":"session_ended","message":"not a refresh token: log in again","field":"refresh_token","details":[]}',
    ),
    (
        "GET",
        "/v1/networks/rete",
        {"on": "2019-01-01", "as_of": "2018-01-01"},
        errors.InvalidPartner,
        422,
        b'{"error":"invalid_partner","message":"give the day as `on` only","field":"query.as_of","details":[]}',
    ),
]


def test_the_cases_meet_every_refusal_the_domain_has() -> None:
    """A new kind of refusal gets a case here. PartnersError itself is their base, never
    raised as such."""
    met = {refusal for *_, refusal, _, _ in CASES}
    assert met == set(errors.PartnersError.__subclasses__())
    for method, path, _, refusal, status, _ in CASES:
        assert refusal.status == status, (method, path)


async def test_every_refusal_is_answered_in_the_one_error_shape_byte_for_byte(service_env, database, broker) -> None:  # type: ignore[no-untyped-def]
    async with in_process("partners", create_app) as service, service.client(headers=ADMIN_HEADERS) as admin:
        for body in (LIGURIA, CISL):
            assert (await admin.post("/v1/partners", json=body)).status_code == 201
        assert (await admin.post("/v1/partners/regione-liguria/contacts", json=ROSSI)).status_code == 201
        bianchi = {"contact_id": "bianchi", "name": "Anna Bianchi", "email": "anna.bianchi@regione.liguria.it"}
        assert (await admin.post("/v1/partners/regione-liguria/contacts", json=bianchi)).status_code == 201
        assert (await admin.post("/v1/contacts/bianchi/erasure")).status_code == 200
        await objectives_known(admin, broker.bootstrap_servers, "mare")
        assert (await admin.post("/v1/networks", json=RETE)).status_code == 201
        # Accounts: one with a second factor, one locked by failed logins.
        for login in ("doppio", "bloccato"):
            body = {"account_id": login, "name": login, "role": "observer", "password": PASSWORD}
            assert (await admin.post("/v1/accounts", json=body)).status_code == 201
        token = (await admin.post("/v1/sessions", json={"login": "doppio", "password": PASSWORD})).json()
        person = {"Authorization": f"Bearer {token['access_token']}"}
        secret = (await admin.post("/v1/account/totp", headers=person)).json()["secret"]
        code = {"code": pyotp.TOTP(secret).now()}
        assert (await admin.post("/v1/account/totp/confirm", json=code, headers=person)).status_code == 200
        for _ in range(5):
            wrong = {"login": "bloccato", "password": "non è questa la frase"}
            assert (await admin.post("/v1/sessions", json=wrong)).status_code == 401
        outbox = await database.fetchval("partners", "SELECT count(*) FROM outbox")

        for method, path, sent, _, status, expected in CASES:
            if isinstance(sent, Linked):
                r = await admin.request(method, path, json=sent.body, headers={"Authorization": f"Bearer {sent.token}"})
            elif method == "GET":
                r = await admin.get(path, params=sent)
            else:
                r = await admin.request(method, path, json=sent)
            assert (r.status_code, r.content) == (status, expected), (method, path, r.text)
            # Date and X-Request-Id (the audit's, on writes) differ on every answer; the rest
            # is the same each time.
            # A locked login also says when to come back, in seconds that differ each time.
            headers = {k: v for k, v in r.headers.items() if k not in {"date", "x-request-id", "retry-after"}}
            assert ("retry-after" in r.headers) is (status == 429), (method, path)
            assert headers == {
                "content-type": "application/json",
                "content-length": str(len(expected)),
                "server": "uvicorn",
            }, (method, path)
            assert ("x-request-id" in r.headers) is (method != "GET"), (method, path)
        assert await database.fetchval("partners", "SELECT count(*) FROM outbox") == outbox
