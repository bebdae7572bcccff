"""The cause of an alert, against the real PostgreSQL, broker, SMTP server, a webhook
receiver and the objectives service itself: the quick start's cut of Regione Liguria's
€4.5M to €3M, published as a funding event, reaches the notifier on the funding topic and,
through the objectives service, as a drop and a status change carrying the funding event's
correlation id; the lead's e-mails and the webhook name the institution, the line, before
→ after and the reason the ledger holds. A redelivered funding event records one cause."""

import json
import re
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families

from regia_notifier.adapters import funding_causes
from regia_notifier.service_layer.occurrence_lookup import causes_of
from regia_objectives.app import create_app as objectives_app
from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.funding import FundingCommitted, FundingLineChanged, FundingRevised
from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.messaging.consumer import Received

from ..support import kafka
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, in_process
from ..support.smtp import SmtpCapture
from ..support.wait import eventually
from ..support.webhook_receiver import WebhookReceiver, schema_errors
from .test_notifier import JOHN, MARIA, notifier, settled
from .test_notifier_webhooks import register

pytestmark = pytest.mark.usefixtures("service_env")

NEED = 5_000_000_00
REASON = "Assestamento di bilancio: taglio al cofinanziamento"
CORRELATION = "assestamento-2027"


def line_event(kind: type[FundingLineChanged], committed: int, delta: int, version: int, reason: str) -> Envelope:
    payload = kind(
        line_id="LIG-2027-001",
        institution_id="regione-liguria",
        level=GovernmentLevel.REGIONE,
        objective_id="miglio-blu",
        fiscal_year=2027,
        committed_cents=committed,
        disbursed_cents=0,
        line_version=version,
        delta_cents=delta,
        reason=reason,
        instrument_id="bilancio-regione-liguria",
    )
    correlation = CORRELATION if kind is FundingRevised else None
    return Envelope.wrap(payload, key="miglio-blu", producer="funding", correlation_id=correlation)


async def consumed(admin: httpx.AsyncClient, **labels: str) -> float:
    """A sample of the notifier's regia_events_consumed_total (0 while it has none)."""
    text = (await admin.get("/metrics")).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "regia_events_consumed_total" and all(s.labels.get(k) == v for k, v in labels.items())
    )


async def causes_recorded(database: Database) -> list[dict[str, Any]]:
    rows = await database.fetch("notifier", "SELECT * FROM funding_causes ORDER BY occurred_at")
    return [dict(r) for r in rows]


async def test_the_cuts_mails_and_webhooks_say_who_cut_which_line_from_what_to_what_and_why(
    broker, database: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", "2025")
    monkeypatch.setenv("REGIA_NOTIFIER_GROUP_WAIT_S", "3")  # one cause in one e-mail, even on a loaded machine
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", Fernet.generate_key().decode())
    bs = broker.bootstrap_servers
    commit = line_event(FundingCommitted, 4_500_000_00, 4_500_000_00, 1, "DGR Regione Liguria: cofinanziamento")
    cut = line_event(FundingRevised, 3_000_000_00, -1_500_000_00, 2, REASON)
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, monkeypatch) as admin:
            await register(admin, receiver)
            async with in_process("objectives", objectives_app) as objectives:
                async with objectives.client(headers=ADMIN_HEADERS) as client:
                    r = await client.post(
                        "/v1/objectives",
                        json={
                            "objective_id": "miglio-blu",
                            "title": "Il Miglio Blu",
                            "at_risk_threshold_pct": 80,
                            "needs": [{"fiscal_year": 2027, "need_cents": NEED}],
                        },
                    )
                    assert r.status_code == 201, r.text
                # €4.5M committed: 90 %, better than before, told to the lead (and its endpoint).
                await kafka.publish(bs, topics.FUNDING, [commit])
                await settled(admin, 3)
            # With the objectives service stopped, the cut reaches the notifier first, and
            # again (a redelivery): one cause, however many times it comes.
            await kafka.publish(bs, topics.FUNDING, [cut])
            await eventually(lambda: _count(causes_recorded(database), 2), what="the cut recorded as a cause")
            await kafka.publish(bs, topics.FUNDING, [cut])

            async def redelivered() -> bool:
                return (
                    await consumed(admin, consumer="notifier.funding", type="FundingRevised", outcome="duplicate") == 1
                )

            await eventually(redelivered, what="the redelivered cut seen as a duplicate")
            recorded = await causes_recorded(database)
            # The cause row is the consumer's record of the event: no inbox row beside it.
            assert (
                await database.fetchval("notifier", "SELECT count(*) FROM inbox WHERE consumer = 'notifier.funding'")
                == 0
            )
            # The objectives service then turns it into a drop and a status change.
            async with in_process("objectives", objectives_app):
                # 3, then one e-mail each to Maria and John (the drop and the status change of
                # one cause), and the drop and the status change to the endpoint.
                done = await settled(admin, 7)
            await eventually(lambda: _ready(receiver.accepted, 3), what="three webhooks")
            caused = await database.fetch(
                "objectives", "SELECT body FROM outbox WHERE correlation_id = $1", CORRELATION
            )
            # Claimed again (as a replay from the dead letters would), the event is not new.
            conn = await database.connect("notifier")
            try:
                again = await funding_causes.claim(conn, [Received(cut, FundingRevised.model_validate(cut.payload))])
                told = await funding_causes.of_correlations(conn, [CORRELATION, "nobody"])
                # Once the notifier knows the Miglio Blu's programme, the cut is its cause too.
                await conn.execute(
                    "INSERT INTO objectives (objective_id, title, kind) VALUES ('mare', 'Il mare di tutti', 'PROGRAMME')"
                )
                await conn.execute("UPDATE objectives SET parent_id = 'mare' WHERE objective_id = 'miglio-blu'")
                asked = [(CORRELATION, "miglio-blu", 2027), (CORRELATION, "mare", 2027), (CORRELATION, "mare", 2028)]
                by_occurrence = await causes_of(conn, [*asked, ("nobody", "miglio-blu", 2027)])
            finally:
                await conn.close()

    # The objectives events of the cut carry the funding event's correlation id, and name it as their cause.
    assert sorted(Envelope.model_validate_json(r["body"]).type for r in caused) == [
        "ObjectiveCoverageChanged",
        "ObjectiveStatusChanged",
    ]
    assert all(Envelope.model_validate_json(r["body"]).causation_id == str(cut.event_id) for r in caused)

    # One cause per funding event, the line's commitment on either side of it.
    assert [(c["event_id"], c["kind"], c["before_cents"], c["after_cents"]) for c in recorded] == [
        (commit.event_id, "committed", 0, 4_500_000_00),
        (cut.event_id, "revised", 4_500_000_00, 3_000_000_00),
    ]
    assert recorded[1]["correlation_id"] == CORRELATION and recorded[1]["reason"] == REASON
    assert again == set()
    assert list(told) == [CORRELATION]
    [cause] = told[CORRELATION]
    assert (cause.institution_name, cause.line_id, cause.cut) == ("Regione Liguria", "LIG-2027-001", True)
    assert by_occurrence == [(cause,), (cause,), (), ()]  # its year, its objective and the nodes above

    cut_mails = [m for m in smtp.messages if "33,33" in str(m["Subject"]) or "33.33" in str(m["Subject"])]
    status_mails = [m for m in smtp.messages if re.search(r"A RISCHIO|at risk", str(m["Subject"]))]
    assert len(cut_mails) == len(status_mails) == 2
    for mail in cut_mails + status_mails:
        text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
        if MARIA in str(mail["To"]):
            sentence = (
                "Regione Liguria (Regione) ha ridotto la linea LIG-2027-001 da € 4.500.000,00 a € 3.000.000,00. "
                f"Motivo: «{REASON}»."
            )
            assert re.search(rf"^{re.escape(sentence)}$", text, re.M), text
        else:
            assert JOHN in str(mail["To"])
            sentence = (
                "Regione Liguria (Region) cut line LIG-2027-001 from €4,500,000.00 to €3,000,000.00. "
                f"Reason: “{REASON}”."
            )
            assert re.search(rf"^{re.escape(sentence)}$", text, re.M), text
        assert sentence in html

    bodies = {json.loads(r.body)["alert"]: json.loads(r.body) for r in receiver.accepted}
    assert {"status_changed", "funding_dropped"} <= set(bodies)
    assert schema_errors(receiver.accepted) == []
    for alert in ("status_changed", "funding_dropped"):
        assert bodies[alert]["causes"] == [
            {
                "event_id": str(cut.event_id),
                "kind": "revised",
                "institution_id": "regione-liguria",
                "institution_name": "Regione Liguria",
                "level": "REGIONE",
                "line_id": "LIG-2027-001",
                "objective_id": "miglio-blu",
                "fiscal_year": 2027,
                "before_cents": 4_500_000_00,
                "after_cents": 3_000_000_00,
                "reason": REASON,
                "occurred_at": cut.occurred_at.isoformat(),
                "disbursed_delta_cents": 0,
                "counterpart_line_id": None,
            }
        ]
    assert len({d["delivery_id"] for d in done}) == 7


async def _count(rows: Any, n: int) -> bool:
    return len(await rows) == n


async def _ready(items: list, count: int) -> list | None:
    return items if len(items) >= count else None
