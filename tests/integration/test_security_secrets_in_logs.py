"""Issue 7, no secret in any log line: the four services run as OS processes, at DEBUG,
through the core path with known secrets in use — the admin token, an institution key
(used, misused and revoked), a webhook signing secret (signing real deliveries), an SMTP
password (a real AUTH, and a refused first delivery), the notifier's encryption key, the key
of the links of e-mails and a contact's one-click unsubscribe link (used), and a
password in the database DSN (the embedded PostgreSQL trusts local connections, so the
password is accepted and never checked, but the services hold it as any other) — then
every log file and the test's own captured output is searched for each secret, and for
the forms derived from them that are as good as the secret (hashes that authenticate,
the base64 of SMTP AUTH PLAIN, the sealed webhook secret)."""

import asyncio
import base64
import hashlib
import re
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from regia_shared.contracts.catalogue import SERVICE_NAMES

from ..support.figures import record
from ..support.infra import Database
from ..support.partners import objectives_known
from ..support.services import ADMIN_HEADERS, ADMIN_TOKEN, EVENT_KEYS, REASON_HEADERS
from ..support.smtp import SmtpCapture
from ..support.system import running_system
from ..support.wait import eventually
from ..support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e
NEED = 5_000_000_00
SMTP_USER, SMTP_PASSWORD = "regia-mailer", "smtp-Pa55word-7f3a9c1e0b"
DB_PASSWORD = "db-Pa55word-51c0ffee77"


class AuthenticatingSmtp(SmtpCapture):
    """The capture server, but it requires AUTH with the known password (no TLS on loopback)."""

    def __init__(self) -> None:
        super().__init__(refuse_first=1)
        self.logins = 0

        def authenticate(server, session, envelope, mechanism, data):  # type: ignore[no-untyped-def]
            ok = (
                isinstance(data, LoginPassword)
                and data.login.decode() == SMTP_USER
                and data.password.decode() == SMTP_PASSWORD
            )
            self.logins += ok
            return AuthResult(success=ok)

        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticate,
            auth_required=True,
            auth_require_tls=False,
        )


def texts_under(root: Path) -> dict[str, str]:
    """Every file under `root` (but a huge one) as text, by its path relative to `root`."""
    return {
        str(p.relative_to(root)): p.read_text(errors="replace")
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.stat().st_size < 50_000_000
    }


def _link_token(message: EmailMessage) -> str:
    """The token of a mail's one-click unsubscribe URL (List-Unsubscribe: <.../unsubscribe/TOKEN>)."""
    found = re.fullmatch(r"<[^>]*/unsubscribe/([A-Za-z0-9_.-]+)>", str(message["List-Unsubscribe"]))
    assert found, message["List-Unsubscribe"]
    return found.group(1)


def with_password(dsn: str) -> str:
    assert dsn.startswith("postgresql://postgres@")
    return dsn.replace("postgresql://postgres@", f"postgresql://postgres:{DB_PASSWORD}@", 1)


async def test_no_secret_reaches_any_log_line(service_env, database: Database, tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    env = {
        **service_env,
        "REGIA_DATABASE_URL": with_password(database.dsn),
        "REGIA_LOG_LEVEL": "DEBUG",
        "REGIA_SMTP_USERNAME": SMTP_USER,
        "REGIA_SMTP_PASSWORD": SMTP_PASSWORD,
        # This server has no TLS: AUTH in clear, acknowledged (STARTTLS is on by default
        # with credentials), so that the logs are checked with the password on the wire.
        "REGIA_SMTP_STARTTLS": "false",
        "REGIA_SMTP_PLAINTEXT_AUTH": "true",
        "REGIA_NOTIFIER_BACKOFF_BASE_S": "0.2",
        "REGIA_NOTIFIER_BACKOFF_MAX_S": "0.5",
    }
    secrets: dict[str, str] = {
        "admin token": ADMIN_TOKEN,
        "admin token sha256": env["REGIA_ADMIN_TOKEN_SHA256"],
        "notifier secrets key": env["REGIA_NOTIFIER_SECRETS_KEY"],
        "preference link key": env["REGIA_PREFERENCE_LINK_KEY"],
        "smtp password": SMTP_PASSWORD,
        "smtp AUTH PLAIN": base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()).decode(),
        "smtp AUTH LOGIN password": base64.b64encode(SMTP_PASSWORD.encode()).decode(),
        "db password": DB_PASSWORD,
        # Each service's event signing secret (its key ids are not secret and may be logged).
        **{f"{k.service} event signing key": k.secret.decode() for s in SERVICE_NAMES for k in EVENT_KEYS.of(s)},
    }
    with (
        AuthenticatingSmtp() as smtp,
        WebhookReceiver() as receiver,
        running_system({**env, "REGIA_SMTP_PORT": str(smtp.port)}, tmp_path) as system,
    ):
        partners = system.start("partners")
        funding = system.start("funding")
        objectives = system.start("objectives")
        notifier = system.start("notifier")

        async with httpx.AsyncClient(headers=ADMIN_HEADERS, timeout=10) as admin:
            for body in (
                {"partner_id": "regione-liguria", "name": "Regione Liguria", "kind": "INSTITUTION", "level": "REGIONE"},
                {
                    "partner_id": "comune-spezia",
                    "name": "Comune della Spezia",
                    "kind": "INSTITUTION",
                    "level": "COMUNE",
                },
            ):
                assert (await admin.post(f"{partners.url}/v1/partners", json=body)).status_code == 201
            r = await admin.post(
                f"{partners.url}/v1/partners/comune-spezia/contacts",
                json={"name": "Ufficio Piano Strategico", "email": "piano@comune.sp.it", "language": "it"},
            )
            assert r.status_code == 201, r.text
            r = await admin.post(
                f"{objectives.url}/v1/objectives",
                json={
                    "objective_id": "miglio-blu",
                    "title": "Il Miglio Blu",
                    "at_risk_threshold_pct": 80,
                    "needs": [{"fiscal_year": 2027, "need_cents": NEED}],
                },
            )
            assert r.status_code == 201, r.text
            # The partners service learns the objective from its event before a lead goes on it.
            await objectives_known(admin, "", "miglio-blu", announce=False, base_url=partners.url)
            r = await admin.put(f"{partners.url}/v1/objectives/miglio-blu/lead", json={"partner_id": "comune-spezia"})
            assert r.status_code == 200, r.text
            r = await admin.post(
                f"{notifier.url}/v1/webhooks",
                json={"webhook_id": "spezia-hook", "partner_id": "comune-spezia", "url": receiver.url},
            )
            assert r.status_code == 201, r.text
            receiver.secret = secrets["webhook secret"] = r.json()["secret"]

            async def ready() -> bool:
                listed = (await admin.get(f"{funding.url}/v1/institutions")).json()
                known = (await admin.get(f"{funding.url}/v1/objectives/miglio-blu")).status_code == 200
                return known and any(i["institution_id"] == "regione-liguria" for i in listed)

            await eventually(ready, what="funding learned the institution and the objective")
            r = await admin.post(
                f"{funding.url}/v1/instruments",
                json={
                    "instrument_id": "bilancio-liguria",
                    "institution_id": "regione-liguria",
                    "name": "Bilancio regionale",
                    "kind": "budget",
                },
            )
            assert r.status_code == 201, r.text
            issued = (await admin.post(f"{funding.url}/v1/institutions/regione-liguria/keys")).json()
            spare = (await admin.post(f"{funding.url}/v1/institutions/regione-liguria/keys")).json()

        key = issued["key"]
        secrets |= {
            "institution key": key,
            "institution key secret": key.split(".", 1)[1],
            "institution key sha256": hashlib.sha256(key.encode()).hexdigest(),
            "revoked key": spare["key"],
            "revoked key secret": spare["key"].split(".", 1)[1],
        }
        async with httpx.AsyncClient(base_url=funding.url, timeout=10) as client:
            region = {"Authorization": f"Bearer {key}", **REASON_HEADERS}
            r = await client.post(
                "/v1/funding-events",
                headers={**region, "Idempotency-Key": "c-1"},
                json={
                    "type": "commitment",
                    "line_id": "LIG-2027-001",
                    "objective_id": "miglio-blu",
                    "instrument_id": "bilancio-liguria",
                    "fiscal_year": 2027,
                    "committed_cents": NEED,
                    "reason": "DGR 101/2026",
                },
            )
            assert r.status_code == 202, r.text
            # Misuse: the key on an admin route, the admin token as a key, a forged key, a revoked key.
            assert (await client.post("/v1/instruments", headers=region, json={})).status_code == 401
            assert (
                await client.post("/v1/funding-events", headers={**ADMIN_HEADERS, "Idempotency-Key": "x"}, json={})
            ).status_code == 401
            forged = {"Authorization": f"Bearer {key[:-4]}AAAA"}
            assert (
                await client.post("/v1/funding-events", headers={**forged, "Idempotency-Key": "x"}, json={})
            ).status_code == 401
            assert (await client.delete(f"/v1/keys/{spare['key_id']}", headers=ADMIN_HEADERS)).status_code == 204
            revoked = {"Authorization": f"Bearer {spare['key']}", "Idempotency-Key": "x", **REASON_HEADERS}
            assert (await client.post("/v1/funding-events", headers=revoked, json={})).status_code == 401
            r = await client.post(
                "/v1/funding-events",
                headers={**region, "Idempotency-Key": "c-2"},
                json={
                    "type": "revision",
                    "line_id": "LIG-2027-001",
                    "committed_cents": 3_000_000_00,
                    "reason": "DGR 202/2026: budget cut",
                },
            )
            assert r.status_code == 202, r.text

        async def delivered() -> bool:
            return bool(smtp.messages) and bool(receiver.accepted)

        await eventually(delivered, timeout=45, what="the at-risk alert by e-mail (after a refusal) and webhook")
        assert smtp.logins >= 2 and smtp.refused == 1  # the password was used, twice
        assert all(r.verified for r in receiver.accepted)  # the signing secret was used

        # A contact's link is a credential for their preferences: used, and never logged.
        a_link = _link_token(smtp.messages[0])
        secrets["contact's unsubscribe link"] = a_link
        async with httpx.AsyncClient(base_url=partners.url, timeout=10) as client:
            r = await client.post(
                "/v1/link/unsubscribe", headers={"Authorization": f"Bearer {a_link}", **REASON_HEADERS}
            )
            assert r.status_code == 200 and r.json()["changed"] is True, r.text

        sealed = await database.fetchval("notifier", "SELECT secret_encrypted FROM webhook_endpoints")
        secrets["sealed webhook secret"] = sealed.decode() if isinstance(sealed, bytes) else str(sealed)

    captured = capfd.readouterr()
    texts = await asyncio.to_thread(texts_under, tmp_path)
    texts |= {"pytest stdout": captured.out, "pytest stderr": captured.err}
    for name in ("partners.log", "funding.log", "objectives.log", "notifier.log"):
        assert texts.get(name), f"{name} is missing or empty: the search would prove nothing"
    # DEBUG reached the libraries' loggers too (httpcore traces each webhook request at DEBUG).
    assert "receive_response_headers.complete" in texts["notifier.log"], "not run at DEBUG"
    leaks = [
        f"{what} in {where}" for what, secret in secrets.items() for where, text in texts.items() if secret in text
    ]
    assert not leaks, leaks
    record("no secret in logs", inputs=len(secrets), requests=16)
