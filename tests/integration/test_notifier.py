"""The notifier against a real PostgreSQL, broker and SMTP server: partner events and an
objective's status change in, e-mails to the lead's contacts out, every attempt on record."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from itertools import pairwise

import httpx
import pytest

from regia_notifier.app import create_app
from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import CoverageStatus, ObjectiveStatusChanged
from regia_shared.contracts.events.partners import ContactAdded, ObjectiveLeadAssigned, PartnerKind, PartnerRegistered
from regia_shared.contracts.levels import GovernmentLevel

from ..support import kafka
from ..support.notifier_state import known_before_its_lead
from ..support.services import ADMIN_HEADERS, in_process
from ..support.smtp import SmtpCapture
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")

MARIA = "maria.rossi@regione.liguria.it"
JOHN = "john.smith@regione.liguria.it"
ANNA = "anna.bianchi@comune.sp.it"


def directory() -> list[Envelope]:
    """Regione Liguria leads the Miglio Blu with two contacts; the Comune, not a lead, has one."""

    def partner(pid: str, name: str, level: GovernmentLevel) -> Envelope:
        return Envelope.wrap(
            PartnerRegistered(partner_id=pid, name=name, kind=PartnerKind.INSTITUTION, level=level),
            key=pid,
            producer="partners",
        )

    def contact(pid: str, cid: str, name: str, email: str, language: str) -> Envelope:
        return Envelope.wrap(
            ContactAdded(partner_id=pid, contact_id=cid, name=name, email=email, language=language),
            key=pid,
            producer="partners",
        )  # type: ignore[arg-type]

    return [
        partner("regione-liguria", "Regione Liguria", GovernmentLevel.REGIONE),
        contact("regione-liguria", "rossi", "Maria Rossi", MARIA, "it"),
        contact("regione-liguria", "smith", "John Smith", JOHN, "en"),
        partner("comune-spezia", "Comune della Spezia", GovernmentLevel.COMUNE),
        contact("comune-spezia", "bianchi", "Anna Bianchi", ANNA, "it"),
        lead("miglio-blu", "regione-liguria"),
    ]


def lead(objective_id: str, partner_id: str) -> Envelope:
    return Envelope.wrap(
        ObjectiveLeadAssigned(objective_id=objective_id, partner_id=partner_id), key=objective_id, producer="partners"
    )


def status_changed(
    objective_id: str = "miglio-blu",
    status: CoverageStatus = CoverageStatus.AT_RISK,
    previous: CoverageStatus | None = CoverageStatus.PARTIALLY_FUNDED,
) -> Envelope:
    payload = ObjectiveStatusChanged(
        objective_id=objective_id,
        title="Miglio Blu",
        fiscal_year=2027,
        previous_status=previous,
        status=status,
        coverage_bp=4550,
        need_cents=5_000_000_00,
        committed_cents=2_275_000_00,
        at_risk_threshold_pct=80,
    )
    return Envelope.wrap(payload, key=objective_id, producer="objectives")


@contextlib.asynccontextmanager
async def notifier(
    broker,
    smtp: SmtpCapture,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
    **settings: str,
) -> AsyncIterator[httpx.AsyncClient]:
    """The notifier with its directory projected: Liguria's contacts are known leads."""
    monkeypatch.setenv("REGIA_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("REGIA_NOTIFIER_BACKOFF_BASE_S", "0.2")
    monkeypatch.setenv("REGIA_NOTIFIER_BACKOFF_MAX_S", "0.5")
    for name, value in settings.items():
        monkeypatch.setenv(f"REGIA_NOTIFIER_{name.upper()}", value)
    await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, directory())
    async with in_process("notifier", create_app) as service, service.client(headers=ADMIN_HEADERS) as admin:
        # The lead has nothing to be briefed on: each test sees the alerts it causes.
        await known_before_its_lead(broker.bootstrap_servers)

        async def projected() -> bool:
            body = (await admin.get("/v1/objectives/miglio-blu/recipients")).json()
            return len(body["contacts"]) == 2

        await eventually(projected, what="the lead's contacts projected from partner events")
        yield admin


async def deliveries(admin: httpx.AsyncClient, **query: str) -> list[dict]:
    r = await admin.get("/v1/deliveries", params={"limit": "500", **query})
    assert r.status_code == 200, r.text
    assert r.json()["next_cursor"] is None, "more deliveries than a test expects"
    return r.json()["items"]


async def settled(admin: httpx.AsyncClient, count: int, status: str = "DELIVERED") -> list[dict]:
    async def probe() -> list[dict] | None:
        found = await deliveries(admin, status=status)
        return found if len(found) == count else None

    return await eventually(probe, what=f"{count} {status} deliveries")


async def metric(admin: httpx.AsyncClient, line: str) -> bool:
    return line in (await admin.get("/metrics")).text


async def test_status_change_is_mailed_to_each_contact_of_the_lead_in_their_language(
    broker, database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            cause = status_changed()
            await kafka.publish_objectives(broker.bootstrap_servers, [cause])
            done = await settled(admin, 2)
            mails = await eventually(lambda: _ready(smtp.messages, 2), what="two e-mails")
            detail = (await admin.get(f"/v1/deliveries/{done[0]['delivery_id']}")).json()
            assert await metric(admin, 'regia_alerts_delivered_total{channel="email"} 2.0')
            assert await metric(admin, 'regia_alert_attempts_total{channel="email",outcome="sent"} 2.0')
            published = await kafka.read_all(broker.bootstrap_servers, topics.NOTIFICATIONS, expect=2)

    by_recipient = {m["To"].addresses[0].addr_spec: m for m in mails}
    assert sorted(by_recipient) == sorted([MARIA, JOHN])  # never the Comune's contact: not a lead
    italian, english = by_recipient[MARIA], by_recipient[JOHN]
    assert italian["Subject"] == "[Regia] Miglio Blu 2027: A RISCHIO"
    assert english["Subject"] == "[Regia] Miglio Blu 2027: at risk"
    assert italian["To"].addresses[0].display_name == "Maria Rossi"
    assert italian["X-Regia-Event-Id"] == english["X-Regia-Event-Id"] == str(cause.event_id)
    assert "regia@localhost" in italian["From"]
    assert (italian["Content-Language"], english["Content-Language"]) == ("it", "en")
    assert italian["Auto-Submitted"] == "auto-generated"
    # Plain text and HTML, each complete, in the person's language.
    assert italian.get_content_type() == "multipart/alternative"
    text, html = italian.get_body(("plain",)).get_content(), italian.get_body(("html",)).get_content()
    for fact in (
        "Miglio Blu",
        "2027",
        "PARZIALMENTE FINANZIATO → A RISCHIO",
        "45,50 %",
        "€ 5.000.000,00",
        "€ 2.275.000,00",
    ):
        assert fact in text and fact in html
    assert 'lang="it"' in html and 'lang="en"' in english.get_body(("html",)).get_content()
    # In English: the statuses in words, the amounts and shares written the English way.
    for part in (english.get_body(("plain",)).get_content(), english.get_body(("html",)).get_content()):
        for fact in ("partially funded → at risk", "45.50%", "€5,000,000.00", "€2,275,000.00"):
            assert fact in part
        assert "AT_RISK" not in part and "5.000.000" not in part
    delivery_ids = {d["delivery_id"] for d in done}
    assert {m["Message-ID"].strip("<>").split("@")[0] for m in mails} == delivery_ids

    assert detail["attempts"] == 1 and detail["cause_event_id"] == str(cause.event_id)
    assert detail["finished_at"] and detail["next_attempt_at"] is None
    assert [a["outcome"] for a in detail["attempt_log"]] == ["SENT"]
    assert {e.type for e in published} == {"AlertDelivered"}
    assert {e.key for e in published} == delivery_ids
    assert {e.payload["recipient"] for e in published} == {MARIA, JOHN}
    assert all(
        e.causation_id == str(cause.event_id)
        and e.correlation_id == cause.correlation_id
        and e.payload["attempts"] == 1
        for e in published
    )


async def test_the_same_event_twice_is_one_email_and_one_delivery(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp:
        # Two publishes, so maybe two consumer batches: a window of 3 s keeps them in one
        # message even on a loaded machine (the suite's 1 s is for alerts of one batch).
        async with notifier(broker, smtp, monkeypatch, group_wait_s="3") as admin:
            await kafka.publish(
                broker.bootstrap_servers,
                topics.PARTNERS,
                [
                    Envelope.wrap(
                        ContactAdded(
                            partner_id="regione-liguria",
                            contact_id="smith",
                            name="John Smith",
                            email=JOHN,
                            language="en",
                        ),
                        key="regione-liguria",
                        producer="partners",
                    )
                ],
            )
            cause = status_changed()
            # Same key, so one partition: once the later change is handled, the duplicate was too.
            later = status_changed(status=CoverageStatus.UNFUNDED, previous=CoverageStatus.AT_RISK)
            await kafka.publish_objectives(broker.bootstrap_servers, [cause, cause])
            await kafka.publish_objectives(broker.bootstrap_servers, [cause, later])
            # The two changes came within one grouping window: one e-mail each, with the net
            # change; the duplicate was queued once.
            await settled(admin, 2)
            mails = await eventually(lambda: _ready(smtp.messages, 2), what="two e-mails")
    subjects = sorted(m["Subject"] for m in mails)
    assert subjects == ["[Regia] Miglio Blu 2027: NON FINANZIATO", "[Regia] Miglio Blu 2027: not funded"]
    assert all("A RISCHIO" not in m["Subject"] for m in mails)
    rows = await database.fetch("notifier", "SELECT cause_event_id, email FROM waiting_alerts")
    assert sorted((str(r["cause_event_id"]), r["email"]) for r in rows) == sorted(
        (str(e.event_id), to.lower()) for e in (cause, later) for to in (MARIA, JOHN)
    )
    rows = await database.fetch("notifier", "SELECT cause_event_id, recipient FROM deliveries")
    assert sorted((str(r["cause_event_id"]), r["recipient"].lower()) for r in rows) == sorted(
        (str(cause.event_id), to.lower()) for to in (MARIA, JOHN)
    )


async def test_a_refusing_server_is_retried_with_back_off_until_it_accepts(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture(refuse_first=2) as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            await _only_maria(broker, admin)
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])
            (done,) = await settled(admin, 1)
            detail = (await admin.get(f"/v1/deliveries/{done['delivery_id']}")).json()
            assert await metric(admin, 'regia_alert_attempts_total{channel="email",outcome="failed"} 2.0')
            assert await metric(admin, 'regia_alert_attempts_total{channel="email",outcome="sent"} 1.0')
            published = await kafka.read_all(broker.bootstrap_servers, topics.NOTIFICATIONS, expect=1)
        assert smtp.refused == 2 and len(smtp.messages) == 1
    assert detail["status"] == "DELIVERED" and detail["attempts"] == 3
    log = detail["attempt_log"]
    assert [a["outcome"] for a in log] == ["FAILED", "FAILED", "SENT"]
    assert all("451" in a["error"] and "try later" in a["error"] for a in log[:2]) and log[2]["error"] is None
    # Retried when the back-off (at most 0.5 s here) fell due, not at the 5 s polling fallback.
    at = [datetime.fromisoformat(a["at"]) for a in log]
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(at)]
    assert all(gap < 2.5 for gap in gaps), gaps
    assert [(e.type, e.payload["attempts"]) for e in published] == [("AlertDelivered", 3)]


async def test_a_status_change_left_on_the_objectives_topic_by_an_earlier_release_is_still_told(  # type: ignore[no-untyped-def]
    broker, database, monkeypatch
) -> None:
    # Before the coverage events had a topic of their own they travelled on
    # regia.objectives.v1: what an upgraded deployment still holds there is applied, once.
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            await _only_maria(broker, admin)
            old = status_changed()
            await kafka.publish(broker.bootstrap_servers, topics.OBJECTIVES, [old, old])
            (done,) = await settled(admin, 1)
            detail = (await admin.get(f"/v1/deliveries/{done['delivery_id']}")).json()
            assert detail["cause_event_id"] == str(old.event_id)
            claimed = await database.fetch("notifier", "SELECT consumer FROM inbox WHERE event_id = $1", old.event_id)
        assert [r["consumer"] for r in claimed] == ["notifier.objectives"] and len(smtp.messages) == 1


async def test_after_the_last_attempt_the_delivery_is_dead_and_alert_failed_is_published(
    broker, database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture(refuse_always=True) as smtp:
        async with notifier(broker, smtp, monkeypatch, max_attempts="3") as admin:
            await _only_maria(broker, admin)
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])
            (dead,) = await settled(admin, 1, status="DEAD")
            detail = (await admin.get(f"/v1/deliveries/{dead['delivery_id']}")).json()
            assert await metric(admin, 'regia_alerts_failed_total{channel="email"} 1.0')
            published = await kafka.read_all(broker.bootstrap_servers, topics.NOTIFICATIONS, expect=1)
        assert smtp.refused == 3 and smtp.messages == []
    assert [a["outcome"] for a in detail["attempt_log"]] == ["FAILED"] * 3
    assert [e.type for e in published] == ["AlertFailed"]
    assert published[0].payload["attempts"] == 3 and "451" in published[0].payload["error"]
    assert published[0].payload["recipient"] == MARIA


async def test_a_change_without_a_known_lead_is_counted_not_sent(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            orphan = status_changed(objective_id="rete-per-il-lavoro")
            await kafka.publish_objectives(broker.bootstrap_servers, [orphan])

            async def handled() -> bool:
                return bool(
                    await database.fetchval(
                        "notifier", "SELECT count(*) FROM inbox WHERE event_id = $1", orphan.event_id
                    )
                )

            await eventually(handled, what="the change consumed")
            assert await metric(admin, 'regia_notifier_alerts_unaddressed_total{trigger="status_changed"} 1.0')
            assert await deliveries(admin) == []
        assert smtp.messages == []


async def test_an_older_lead_assignment_arriving_late_does_not_win(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            newer = lead("miglio-blu", "comune-spezia")
            older = lead("miglio-blu", "regione-liguria")
            older = older.model_copy(update={"occurred_at": newer.occurred_at - timedelta(minutes=5)})
            await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, [newer, older])

            async def settled_lead() -> str | None:
                n = await database.fetchval(
                    "notifier", "SELECT count(*) FROM inbox WHERE event_id = $1", older.event_id
                )
                return n and (await admin.get("/v1/objectives/miglio-blu/recipients")).json()["lead"]

            assert await eventually(settled_lead, what="both assignments consumed") == "comune-spezia"
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])
            (done,) = await settled(admin, 1)
    assert done["recipient"] == ANNA and done["partner_id"] == "comune-spezia"


async def test_a_claim_whose_dispatcher_died_is_recorded_abandoned_and_retried(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            # A delivery a dead replica claimed (attempt 1) and whose claim has run out.
            delivery_id = uuid.uuid4()
            await database.fetchval(
                "notifier",
                "INSERT INTO deliveries (delivery_id, cause_event_id, correlation_id, objective_id,"
                " channel, recipient, recipient_name, language, subject, body, status, attempts,"
                " next_attempt_at) VALUES ($1, $2, 'c', 'miglio-blu', 'email', $3, 'Maria Rossi', 'it',"
                " 'oggetto', 'testo', 'SENDING', 1, now() - interval '1 second')",
                delivery_id,
                uuid.uuid4(),
                MARIA,
            )
            await settled(admin, 1)
            detail = (await admin.get(f"/v1/deliveries/{delivery_id}")).json()
            assert len(smtp.messages) == 1
    assert [a["outcome"] for a in detail["attempt_log"]] == ["ABANDONED", "SENT"]
    assert detail["attempts"] == 2


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
async def test_delivery_log_needs_the_admin_token(broker, database, monkeypatch, headers) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            base = str(admin.base_url)
            async with httpx.AsyncClient(base_url=base, headers=headers) as anonymous:
                assert (await anonymous.get("/v1/deliveries")).status_code == 401
                assert (await anonymous.get(f"/v1/deliveries/{uuid.uuid4()}")).status_code == 401
            assert (await admin.get(f"/v1/deliveries/{uuid.uuid4()}")).status_code == 404
            r = await admin.get("/v1/deliveries", params={"status": "LOST"})
            assert r.status_code == 422 and r.json()["field"] == "query.status"


async def _only_maria(broker, admin: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    """Make Maria the only contact told, by moving the lead to a partner with her alone."""
    await kafka.publish(
        broker.bootstrap_servers,
        topics.PARTNERS,
        [
            Envelope.wrap(
                PartnerRegistered(partner_id="miglio-blu-spa", name="Miglio Blu S.p.A.", kind=PartnerKind.ENTERPRISE),
                key="miglio-blu-spa",
                producer="partners",
            ),
            Envelope.wrap(
                ContactAdded(
                    partner_id="miglio-blu-spa", contact_id="rossi-spa", name="Maria Rossi", email=MARIA, language="it"
                ),
                key="miglio-blu-spa",
                producer="partners",
            ),
            lead("miglio-blu", "miglio-blu-spa"),
        ],
    )

    async def moved() -> bool:
        return (await admin.get("/v1/objectives/miglio-blu/recipients")).json()["lead"] == "miglio-blu-spa"

    await eventually(moved, what="the lead moved to Miglio Blu S.p.A.")


async def _ready(items: list, count: int) -> list | None:
    return items if len(items) >= count else None
