"""Daily digests against the real parts: a person who asked for a digest gets one e-mail
grouping their alerts (at the digest time, or when an administrator sends it now), never
an alert twice, while their colleagues keep hearing immediately."""

from datetime import UTC, datetime, timedelta

import pytest

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import CoverageStatus
from regia_shared.contracts.events.partners import ContactPreferencesChanged

from ..support import kafka
from ..support.smtp import SmtpCapture
from ..support.wait import eventually
from ..support.webhook_receiver import WebhookReceiver
from .test_notifier import status_changed
from .test_notifier_rules import ROSSI, SMITH, notifier

pytestmark = pytest.mark.usefixtures("service_env")


def maria_wants_a_digest() -> Envelope:
    return Envelope.wrap(
        ContactPreferencesChanged(
            partner_id="regione-liguria",
            contact_id="rossi",
            channels=["email"],
            language="it",
            cadence="daily_digest",
            event_kinds=["status_changed", "funding_dropped"],
        ),
        key="regione-liguria",
        producer="partners",
    )


async def test_alerts_wait_for_the_daily_digest_and_go_out_as_one_email(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_NOTIFIER_GROUP_WAIT_S", "3")  # one cause in one e-mail, even on a loaded machine
    monkeypatch.setenv("REGIA_NOTIFIER_DIGEST_CHECK_S", "0.5")
    await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, [maria_wants_a_digest()])
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, receiver, monkeypatch, "mit") as admin:

            async def maria_waits() -> bool:
                r = await admin.get("/v1/objectives/miglio-blu/recipients")
                return any(c["cadence"] == "daily_digest" for c in r.json()["contacts"])

            await eventually(maria_waits, what="Maria's digest preference projected")

            first = status_changed()
            second = status_changed(status=CoverageStatus.UNFUNDED, previous=CoverageStatus.AT_RISK)
            # The first is redelivered: it must still be one line in the digest.
            await kafka.publish_objectives(broker.bootstrap_servers, [first, first, second])

            async def john_told_once_maria_waiting() -> list[dict] | None:
                waiting = (await admin.get("/v1/contacts/rossi/digest")).json()["items"]
                mailed = [m for m in smtp.messages if SMITH in str(m["To"])]
                return waiting if len(waiting) == 2 and len(mailed) == 1 else None

            # John's two changes came within his grouping window: one e-mail.
            waiting = await eventually(john_told_once_maria_waiting, what="John mailed, Maria's alerts waiting")
            assert not [m for m in smtp.messages if ROSSI in str(m["To"])]
            assert {w["cause_event_id"] for w in waiting} == {str(first.event_id), str(second.event_id)}
            # Due at tomorrow's 08:00 in Rome, not now: only the command sends it today.
            assert all(datetime.fromisoformat(w["due_at"]) > datetime.now(UTC) for w in waiting)

            sent = await admin.post("/v1/digests/send", json={"contact_id": "rossi"})
            assert sent.status_code == 200 and sent.json() == {"digests": 1}
            assert (await admin.post("/v1/digests/send", json={})).json() == {"digests": 0}

            async def maria_mail() -> list:
                return [m for m in smtp.messages if ROSSI in str(m["To"])] or None  # type: ignore[return-value]

            [digest] = await eventually(maria_mail, what="Maria's digest")
            assert (await admin.get("/v1/contacts/rossi/digest")).json() == {"items": [], "next_cursor": None}

            # An alert whose digest time has passed goes out on the job's next round.
            late = status_changed(status=CoverageStatus.AT_RISK, previous=CoverageStatus.UNFUNDED)
            late = late.model_copy(update={"occurred_at": datetime.now(UTC) - timedelta(days=2)})
            await kafka.publish_objectives(broker.bootstrap_servers, [late])

            async def two_digests() -> list | None:
                found = [m for m in smtp.messages if ROSSI in str(m["To"])]
                return found if len(found) == 2 else None

            digests = await eventually(two_digests, what="the scheduled digest")

            async def both_recorded() -> list | None:
                # The SMTP server has the mail before the dispatcher records the outcome.
                rows = (await admin.get("/v1/contacts/rossi/deliveries")).json()["items"]
                return rows if rows and all(d["status"] == "DELIVERED" for d in rows) else None

            deliveries = await eventually(both_recorded, what="both digests recorded as delivered")
            # A digest's row names no objective, yet "was anyone told about miglio-blu?" finds
            # it through the alerts it carried (the console's at-risk table asks just that).
            about = await admin.get("/v1/deliveries", params={"objective_id": "miglio-blu", "limit": 50})
            assert {d["delivery_id"] for d in deliveries} <= {d["delivery_id"] for d in about.json()["items"]}
            elsewhere = await admin.get("/v1/deliveries", params={"objective_id": "another-objective"})
            assert elsewhere.json()["items"] == []

    # The digest collapses the state since superseded: one change, first state to last.
    assert str(digest["Subject"]).startswith("[Regia] Riepilogo del ") and "1 avviso" in str(digest["Subject"])
    text = digest.get_body(("plain",)).get_content()
    html = digest.get_body(("html",)).get_content()
    assert "PARZIALMENTE FINANZIATO → NON FINANZIATO" in text and "A RISCHIO" not in text
    assert str(first.event_id) in text and str(first.event_id) in html
    [john] = [m for m in smtp.messages if SMITH in str(m["To"])]
    assert john["Subject"] == "[Regia] Miglio Blu 2027: not funded"
    assert "partially funded → not funded" in john.get_body(("plain",)).get_content()
    assert (
        "1 avviso" in str(digests[1]["Subject"]) and str(late.event_id) in digests[1].get_body(("plain",)).get_content()
    )
    assert sorted(d["kind"] for d in deliveries) == ["digest", "digest"]
    assert all(d["status"] == "DELIVERED" for d in deliveries)
