"""Contacts with internationalised addresses get their alerts.

Registered through partners (`José@Comune.IT` is kept as `José@comune.it`), projected by
the notifier from ContactAdded, and mailed to a real aiosmtpd server:
- a server offering SMTPUTF8 gets every one, the non-ASCII local parts with SMTPUTF8 and
  UTF-8 headers, the internationalised domains as IDNA A-labels in the envelope;
- a server without SMTPUTF8 still gets the address whose domain alone is internationalised
  (IDNA, a plain ASCII message), and the ones with a non-ASCII local part are dead letters
  after one attempt, their reason saying exactly why, instead of failing six times.
Before the fix, the message could not even be written (formataddr refuses a non-ASCII
address): every attempt failed with an internal error and each alert ended a dead letter.
"""

import pytest

from regia_notifier.app import create_app as notifier_app
from regia_partners.app import create_app as partners_app

from ..integration.test_notifier import deliveries, settled, status_changed
from ..support import kafka
from ..support.figures import record
from ..support.partners import objectives_known
from ..support.services import ADMIN_HEADERS, in_process
from ..support.smtp import SmtpCapture
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")

# (name, address as typed, address as registered, envelope RCPT)
JOSE = ("José Pérez", "José@Comune.IT", "José@comune.it", "José@comune.it")
CITTA = ("Ufficio Città", "info@CITTÀ.it", "info@città.it", "info@xn--citt-3na.it")
YONGHU = ("用户", "用户@例子.广告", "用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v")
CONTACTS = (JOSE, CITTA, YONGHU)


async def alert_the_contacts(
    smtp: SmtpCapture,
    monkeypatch: pytest.MonkeyPatch,
    broker,  # type: ignore[no-untyped-def]
    delivered: int,
    dead: int,
) -> tuple[list[dict], list[dict]]:
    """Register the contacts through partners, make their partner the lead, change the
    objective's status, and wait for the deliveries to settle: (delivered, dead letters)."""
    monkeypatch.setenv("REGIA_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("REGIA_NOTIFIER_BACKOFF_BASE_S", "0.2")
    monkeypatch.setenv("REGIA_NOTIFIER_BACKOFF_MAX_S", "0.5")
    async with (
        in_process("partners", partners_app) as partners,
        in_process("notifier", notifier_app) as notifier,
        partners.client(headers=ADMIN_HEADERS) as p,
        notifier.client(headers=ADMIN_HEADERS) as admin,
    ):
        r = await p.post(
            "/v1/partners",
            json={
                "partner_id": "comune-spezia",
                "name": "Comune della Spezia",
                "kind": "INSTITUTION",
                "level": "COMUNE",
            },
        )
        assert r.status_code == 201, r.text
        for name, typed, registered, _ in CONTACTS:
            r = await p.post("/v1/partners/comune-spezia/contacts", json={"name": name, "email": typed})
            assert r.status_code == 201, r.text
            assert r.json()["email"] == registered  # NFC, domain in lower case
        await objectives_known(p, broker.bootstrap_servers, "miglio-blu")
        r = await p.put("/v1/objectives/miglio-blu/lead", json={"partner_id": "comune-spezia"})
        assert r.status_code == 200, r.text

        async def projected() -> bool:
            body = (await admin.get("/v1/objectives/miglio-blu/recipients")).json()
            return len(body.get("contacts", [])) == len(CONTACTS)

        await eventually(projected, what="the contacts projected from partners' events")
        await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])
        done = await settled(admin, delivered) if delivered else []
        if dead:
            await settled(admin, dead, status="DEAD")
        letters = (await admin.get("/v1/dead-letters")).json()["items"]
        assert len(await deliveries(admin)) == delivered + dead
        return done, letters


async def test_a_server_with_smtputf8_gets_every_internationalised_address(broker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture(smtputf8=True) as smtp:
        await alert_the_contacts(smtp, monkeypatch, broker, delivered=3, dead=0)
        mails = await eventually(lambda: _at_least(smtp, 3), what="three e-mails")
        envelopes, utf8 = smtp.envelopes, smtp.smtputf8
    by_rcpt = {rcpts[0]: (mail, used) for (_, rcpts), mail, used in zip(envelopes, mails, utf8, strict=True)}
    assert sorted(by_rcpt) == sorted(c[3] for c in CONTACTS)
    for name, _, registered, rcpt in CONTACTS:
        mail, used = by_rcpt[rcpt]
        to = mail["To"].addresses[0]
        assert to.display_name == name
        # A non-ASCII local part travels in UTF-8 with SMTPUTF8, the domain as registered in
        # the header; an internationalised domain alone is IDNA, in a plain ASCII message.
        assert used == (not registered.split("@")[0].isascii())
        assert to.addr_spec == (registered if used else rcpt)
        assert "Miglio Blu" in mail.get_body(("plain",)).get_content()
    record("smtp: internationalised addresses delivered (SMTPUTF8)", faults=1, euros_lost=0, alerts_duplicated=0)


async def test_a_server_without_smtputf8_gets_the_idna_address_and_the_rest_die_saying_why(broker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp:
        delivered, letters = await alert_the_contacts(smtp, monkeypatch, broker, delivered=1, dead=2)
        mails = await eventually(lambda: _at_least(smtp, 1), what="one e-mail")
        envelopes = smtp.envelopes
    assert [d["recipient"] for d in delivered] == [CITTA[2]]
    assert [rcpts for _, rcpts in envelopes] == [[CITTA[3]]] and mails[0]["To"].addresses[0].addr_spec == CITTA[3]
    assert sorted(d["recipient"] for d in letters) == sorted([JOSE[2], YONGHU[2]])
    for letter in letters:
        assert letter["attempts"] == 1, letter  # permanent: not retried until attempts run out
        reason = letter["last_error"]
        assert reason.startswith("undeliverable, not retried: ") and letter["recipient"] in reason, reason
        assert "non-ASCII local part" in reason and "SMTPUTF8" in reason, reason
        assert f"127.0.0.1:{smtp.port} does not offer it" in reason, reason
    record(
        "smtp: no SMTPUTF8, IDNA still delivered, UTF-8 local parts dead at once",
        faults=1,
        euros_lost=0,
        alerts_duplicated=0,
    )


async def _at_least(smtp: SmtpCapture, count: int):  # type: ignore[no-untyped-def]
    messages = smtp.messages
    return messages if len(messages) >= count else None
