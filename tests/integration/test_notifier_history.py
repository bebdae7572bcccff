"""History never alerts (issue 19), against a real PostgreSQL, broker, SMTP server and
webhook receiver: an objectives event marked as caused by history funding plans no e-mail
and no webhook, while the same change unmarked, right behind it, does."""

import json

import pytest
from cryptography.fernet import Fernet

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import CoverageStatus, ObjectiveStatusChanged

from ..support import kafka
from ..support.smtp import SmtpCapture
from ..support.wait import eventually
from ..support.webhook_receiver import WebhookReceiver
from .test_notifier import _ready, notifier, settled, status_changed
from .test_notifier_webhooks import register, webhook_deliveries

pytestmark = pytest.mark.usefixtures("service_env")


def marked_as_history(event: Envelope) -> Envelope:
    payload = ObjectiveStatusChanged.model_validate({**event.payload, "history": True})
    return Envelope.wrap(payload, key=event.key, producer="objectives")


async def test_an_event_caused_by_history_funding_is_neither_mailed_nor_sent_to_a_webhook(  # type: ignore[no-untyped-def]
    broker, database, monkeypatch
) -> None:
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", Fernet.generate_key().decode())
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, monkeypatch) as admin:
            await register(admin, receiver)
            # An open year (2027), a real status change: only the marker sets the two apart.
            history = marked_as_history(status_changed())
            alert = status_changed(status=CoverageStatus.UNFUNDED, previous=CoverageStatus.AT_RISK)
            # One key, one partition: once the later change is delivered, the first was handled.
            await kafka.publish_objectives(broker.bootstrap_servers, [history, alert])
            await settled(admin, 3)  # the lead's two contacts and its webhook, for `alert`
            await webhook_deliveries(admin, 1)
            mails = await eventually(lambda: _ready(smtp.messages, 2), what="two e-mails")
            await eventually(lambda: _ready(receiver.accepted, 1), what="one webhook")
            causes = await database.fetch("notifier", "SELECT DISTINCT cause_event_id FROM deliveries")
            queued = await database.fetch(
                "notifier", "SELECT count(*) AS n FROM waiting_alerts WHERE cause_event_id = $1", history.event_id
            )
    assert [str(r["cause_event_id"]) for r in causes] == [str(alert.event_id)]
    assert {m["X-Regia-Event-Id"] for m in mails} == {str(alert.event_id)}
    assert [json.loads(r.body)["event_id"] for r in receiver.requests] == [str(alert.event_id)]
    assert queued[0]["n"] == 0
