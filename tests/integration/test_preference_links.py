"""Unsubscribing and choosing preferences from an e-mail, with the real services: partners,
the notifier and the console over real HTTP, PostgreSQL, the broker and the SMTP capture.

An alert caught by the SMTP server carries a one-click `List-Unsubscribe` (RFC 8058) and a
preferences link in its footer; POSTing `List-Unsubscribe=One-Click` to the header's URL
turns that kind off for that person, and the next such alert mails the other contact
only. The preferences page, fetched and posted as a browser would, changes a person's
cadence per kind and their e-mails' language. A GET changes nothing; a forged or aged-out
link is a clear 4xx and changes nothing."""

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html import unescape

import httpx
import pytest

from regia_console.settings import ConsoleSettings
from regia_console.web import create_app as console_app
from regia_notifier.app import create_app as notifier_app
from regia_partners.app import create_app as partners_app
from regia_shared.contracts import topics
from regia_shared.contracts.catalogue import CONSOLE
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import CoverageStatus, ObjectiveStatusChanged
from regia_shared.contracts.preference_links import PreferenceLink, sign

from ..support import kafka
from ..support.infra import Database
from ..support.notifier_state import known_before_its_lead
from ..support.partners import broker_bootstrap, objectives_known
from ..support.services import ADMIN_HEADERS, PREFERENCE_LINK_KEY, in_process
from ..support.smtp import SmtpCapture
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")

MARIA = "maria.rossi@regione.liguria.it"
JOHN = "john.smith@regione.liguria.it"


@dataclass
class System:
    partners: httpx.AsyncClient  # with the admin token
    notifier: httpx.AsyncClient  # with the admin token
    web: httpx.AsyncClient  # a reader's browser: no credential at all
    console_url: str
    smtp: SmtpCapture


@contextlib.asynccontextmanager
async def system(smtp: SmtpCapture, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[System]:
    """Partners, the console reading it, and the notifier linking to the console; Regione
    Liguria leads the Miglio Blu with Maria (Italian) and John (English), known to the
    notifier from the partners service's own events."""
    monkeypatch.setenv("REGIA_SMTP_PORT", str(smtp.port))
    async with (
        in_process("partners", partners_app) as partners,
        partners.client(headers=ADMIN_HEADERS) as admin,
        in_process("console", lambda: console_app(ConsoleSettings(partners_url=partners.url))) as console,
    ):
        monkeypatch.setenv(CONSOLE.url_var, console.url)
        async with (
            in_process("notifier", notifier_app) as notifier,
            notifier.client(headers=ADMIN_HEADERS) as notifier_admin,
            console.client() as web,
        ):
            body = {
                "partner_id": "regione-liguria",
                "name": "Regione Liguria",
                "kind": "INSTITUTION",
                "level": "REGIONE",
            }
            assert (await admin.post("/v1/partners", json=body)).status_code == 201
            for contact in (
                {"contact_id": "rossi", "name": "Maria Rossi", "email": MARIA, "language": "it"},
                {"contact_id": "smith", "name": "John Smith", "email": JOHN, "language": "en"},
            ):
                assert (await admin.post("/v1/partners/regione-liguria/contacts", json=contact)).status_code == 201
            await objectives_known(admin, broker_bootstrap(), "miglio-blu")
            await known_before_its_lead(broker_bootstrap())  # the lead has nothing to be briefed on
            r = await admin.put("/v1/objectives/miglio-blu/lead", json={"partner_id": "regione-liguria"})
            assert r.status_code == 200, r.text

            async def projected() -> bool:
                body = (await notifier_admin.get("/v1/objectives/miglio-blu/recipients")).json()
                return len(body["contacts"]) == 2

            await eventually(projected, what="the lead's contacts projected from partner events")
            yield System(admin, notifier_admin, web, console.url, smtp)


def status_changed(status: CoverageStatus, previous: CoverageStatus) -> Envelope:
    payload = ObjectiveStatusChanged(
        objective_id="miglio-blu",
        title="Miglio Blu",
        fiscal_year=2027,
        previous_status=previous,
        status=status,
        coverage_bp=4550,
        need_cents=5_000_000_00,
        committed_cents=2_275_000_00,
        at_risk_threshold_pct=80,
    )
    return Envelope.wrap(payload, key="miglio-blu", producer="objectives")


async def alert(s: System, broker, cause: Envelope, count: int) -> list[EmailMessage]:  # type: ignore[no-untyped-def]
    """Publish `cause` and wait for the mails it causes (`count` of them)."""
    await kafka.publish_objectives(broker.bootstrap_servers, [cause])

    async def mailed() -> list[EmailMessage] | None:
        mine = [m for m in s.smtp.messages if m["X-Regia-Event-Id"] == str(cause.event_id)]
        return mine if len(mine) >= count else None

    return await eventually(mailed, what=f"{count} e-mails of {cause.event_id}")


def to(mails: list[EmailMessage], address: str) -> EmailMessage:
    (mail,) = [m for m in mails if m["To"].addresses[0].addr_spec == address]
    return mail


async def their_kinds(s: System, contact_id: str) -> dict:
    body = (await s.notifier.get("/v1/objectives/miglio-blu/recipients")).json()
    return next(c["kinds"] for c in body["contacts"] if c["contact_id"] == contact_id)


async def test_one_click_from_the_mail_header_turns_that_kind_off_and_the_next_alert_skips_them(
    broker, database: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp:
        async with system(smtp, monkeypatch) as s:
            first = status_changed(CoverageStatus.AT_RISK, CoverageStatus.PARTIALLY_FUNDED)
            mails = await alert(s, broker, first, 2)
            john = to(mails, JOHN)
            header = re.fullmatch(r"<(.+/unsubscribe/([A-Za-z0-9_.-]+))>", john["List-Unsubscribe"])
            assert header, john["List-Unsubscribe"]
            url, token = header.groups()
            assert url.startswith(f"{s.console_url}/unsubscribe/")
            assert john["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert to(mails, MARIA)["List-Unsubscribe"] != john["List-Unsubscribe"]  # each their own
            for part in ("plain", "html"):
                assert f"{s.console_url}/preferences/" in john.get_body((part,)).get_content()

            # A mail scanner follows the link: it is asked, and nothing changes.
            page = await s.web.get(url)
            assert page.status_code == 200 and "Stop these alerts?" in page.text, page.text
            assert "funding status changed" in page.text
            assert (await s.partners.get("/v1/contacts/smith/preferences")).status_code == 404
            # A forged link is refused, and changes nothing either.
            forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
            r = await s.web.post(forged, data={"List-Unsubscribe": "One-Click"})
            assert r.status_code == 403 and "Link non valido" in r.text  # whose it is, unknown: Italian
            assert (await s.partners.get("/v1/contacts/smith/preferences")).status_code == 404

            # The mail client's one-click POST, as RFC 8058 has it sent; twice is once.
            for _ in range(2):
                r = await s.web.post(url, data={"List-Unsubscribe": "One-Click"})
                assert r.status_code == 200 and "Unsubscribed" in r.text, r.text
            prefs = (await s.partners.get("/v1/contacts/smith/preferences")).json()
            assert prefs["kinds"] == {"status_changed": "off"} and prefs["language"] == "en"

            async def turned_off() -> bool:
                return await their_kinds(s, "smith") == {"status_changed": "off"}

            await eventually(turned_off, what="the notifier projected John's unsubscription")

            later = status_changed(CoverageStatus.UNFUNDED, CoverageStatus.AT_RISK)
            (only,) = await alert(s, broker, later, 1)
            assert only["To"].addresses[0].addr_spec == MARIA
            # Planned in one transaction with Maria's: had John's been planned, it would be here.
            planned = (await s.notifier.get("/v1/deliveries", params={"limit": 100})).json()["items"]
            assert sorted(d["recipient"] for d in planned if d["cause_event_id"] == str(later.event_id)) == [MARIA]

    # Who changed it, and why: the contact, by one click; the forgery, refused as anonymous;
    # no token on record.
    published = await kafka.read_all(broker.bootstrap_servers, topics.PARTNERS, expect=5)
    (changed,) = [e for e in published if e.type == "ContactPreferencesChanged"]
    assert changed.version == 2 and changed.payload["reason"] == "one-click unsubscribe"
    assert changed.payload["kinds"] == {"status_changed": "off"} and "status_changed" in changed.payload["event_kinds"]
    rows = await database.fetch(
        "partners", "SELECT route, path, status, actor FROM audit_log WHERE route LIKE '/v1/link/%' ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [
        ("/v1/link/unsubscribe", "/v1/link/unsubscribe", 401, "anonymous"),  # the forged one
        ("/v1/link/unsubscribe", "/v1/link/unsubscribe", 200, "contact:smith"),
        ("/v1/link/unsubscribe", "/v1/link/unsubscribe", 200, "contact:smith"),
    ]
    assert not await database.fetchval(
        "partners", "SELECT count(*) FROM audit_log WHERE path LIKE $1", f"%{token[-20:]}%"
    )


async def test_the_preferences_page_from_the_footer_changes_cadences_and_language(
    broker, database: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp:
        async with system(smtp, monkeypatch) as s:
            mails = await alert(s, broker, status_changed(CoverageStatus.AT_RISK, CoverageStatus.PARTIALLY_FUNDED), 2)
            text = to(mails, MARIA).get_body(("plain",)).get_content()
            found = re.search(r"smettere di riceverli: (\S+/preferences/\S+)", text)
            assert found, text
            url = found.group(1)

            page = await s.web.get(url)
            assert page.status_code == 200 and '<html lang="it">' in page.text  # her e-mails' language
            assert "Le tue e-mail da Regia" in page.text and "Maria Rossi" in page.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf and page.cookies.get("regia_prefs_csrf") == csrf.group(1)
            choice = {
                "csrf": csrf.group(1),
                "kind.status_changed": "daily_digest",
                "kind.funding_dropped": "off",
                "kind.line_revoked": "weekly_digest",
                "kind.review_closed": "immediate",
                "language": "en",
            }
            # Posted from elsewhere (no cookie, or not this page's token): refused, nothing changed.
            async with httpx.AsyncClient() as elsewhere:
                assert (await elsewhere.post(url, data=choice)).status_code == 403
            assert (await s.web.post(url, data={**choice, "csrf": "x" * 43})).status_code == 403
            assert (await s.partners.get("/v1/contacts/rossi/preferences")).status_code == 404

            saved = await s.web.post(url, data=choice)
            assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=1")
            shown = await s.web.get(s.console_url + saved.headers["location"])
            # Now in English, the language she chose for her e-mails.
            assert '<html lang="en">' in shown.text and "Preferences saved." in shown.text
            assert '<option value="weekly_digest" selected>In the weekly digest</option>' in shown.text
            prefs = (await s.partners.get("/v1/contacts/rossi/preferences")).json()
            assert prefs["language"] == "en" and prefs["kinds"] == {
                "funding_dropped": "off",
                "line_revoked": "weekly_digest",
                "status_changed": "daily_digest",
            }

            async def projected() -> bool:
                return (await their_kinds(s, "rossi")).get("status_changed") == "daily_digest"

            await eventually(projected, what="the notifier projected Maria's choice")
            later = status_changed(CoverageStatus.UNFUNDED, CoverageStatus.AT_RISK)
            (only,) = await alert(s, broker, later, 1)  # John's, at once; Maria's waits for her digest
            assert only["To"].addresses[0].addr_spec == JOHN
            waiting = (await s.notifier.get("/v1/contacts/rossi/digest")).json()["items"]
            assert [w["cause_event_id"] for w in waiting] == [str(later.event_id)]

            # A link older than links are good for: a clear 410, and nothing read or changed.
            old = datetime.now(UTC).date() - timedelta(days=400)
            aged = sign(PreferenceLink("rossi", "preferences", None, old), PREFERENCE_LINK_KEY.encode())
            r = await s.web.get(f"{s.console_url}/preferences/{aged}?lang=en")
            assert r.status_code == 410 and "This link has expired" in unescape(r.text)
            # An unsubscribe link opens no preferences page.
            unsubscribe = sign(
                PreferenceLink("rossi", "unsubscribe", None, datetime.now(UTC).date()), PREFERENCE_LINK_KEY.encode()
            )
            assert (await s.web.get(f"{s.console_url}/preferences/{unsubscribe}")).status_code == 403

    published = await kafka.read_all(broker.bootstrap_servers, topics.PARTNERS, expect=5)
    (changed,) = [e for e in published if e.type == "ContactPreferencesChanged"]
    assert changed.payload["reason"] == "preferences page" and changed.payload["language"] == "en"
    actors = await database.fetch(
        "partners", "SELECT DISTINCT actor FROM audit_log WHERE route = '/v1/link/preferences'"
    )
    assert [r["actor"] for r in actors] == ["contact:rossi"]
