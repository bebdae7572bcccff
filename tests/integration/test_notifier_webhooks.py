"""Webhooks, the notifier's second alert channel, against a real PostgreSQL, broker, SMTP
server and HTTP receiver: signed requests, retried with back-off until accepted, never
twice for the same event, and a signing secret that is shown once and kept encrypted."""

import json
import time

import httpx
import pytest
import structlog
from cryptography.fernet import Fernet

from regia_notifier.domain.signature import sign
from regia_notifier.entrypoints import payload_schema
from regia_shared.contracts import topics
from regia_shared.contracts.events.objectives import CoverageStatus

from ..support import kafka
from ..support.smtp import SmtpCapture
from ..support.wait import eventually
from ..support.webhook_receiver import WebhookReceiver, schema_errors
from .test_notifier import metric, notifier, status_changed

pytestmark = pytest.mark.usefixtures("service_env")


async def webhook_deliveries(admin: httpx.AsyncClient, count: int, status: str = "DELIVERED") -> list[dict]:
    async def probe() -> list[dict] | None:
        r = await admin.get("/v1/deliveries", params={"status": status})
        assert r.status_code == 200, r.text
        found = [d for d in r.json()["items"] if d["channel"] == "webhook"]
        return found if len(found) == count else None

    return await eventually(probe, what=f"{count} {status} webhook deliveries")


async def register(admin: httpx.AsyncClient, receiver: WebhookReceiver, webhook_id: str = "liguria-hook") -> dict:
    r = await admin.post(
        "/v1/webhooks", json={"webhook_id": webhook_id, "partner_id": "regione-liguria", "url": receiver.url}
    )
    assert r.status_code == 201, r.text
    created = r.json()
    receiver.secret = created["secret"]
    return created


async def test_a_signed_webhook_is_retried_until_accepted_and_its_secret_never_leaks(
    broker, database, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", Fernet.generate_key().decode())
    service_log = _capture_structlog(monkeypatch)
    with SmtpCapture() as smtp, WebhookReceiver(fail_first=3) as receiver:
        async with notifier(broker, smtp, monkeypatch) as admin:
            created = await register(admin, receiver)
            secret = created["secret"]
            listed = (await admin.get("/v1/webhooks", params={"partner_id": "regione-liguria"})).json()["items"]
            cause = status_changed()
            await kafka.publish_objectives(broker.bootstrap_servers, [cause])
            (done,) = await webhook_deliveries(admin, 1)
            detail = (await admin.get(f"/v1/deliveries/{done['delivery_id']}")).json()
            assert await metric(admin, 'regia_alerts_delivered_total{channel="webhook"} 1.0')
            assert await metric(admin, 'regia_alert_attempts_total{channel="webhook",outcome="failed"} 3.0')
            assert await metric(admin, 'regia_alerts_planned_total{channel="webhook"} 1.0')
            published = await kafka.read_all(broker.bootstrap_servers, topics.NOTIFICATIONS, expect=3)

            # A forged request (the right body, the wrong secret) is refused by the receiver.
            accepted = receiver.accepted[0]
            ts = int(time.time())
            async with httpx.AsyncClient() as client:
                forged = await client.post(
                    receiver.url,
                    content=accepted.body,
                    headers={"X-Regia-Timestamp": str(ts), "X-Regia-Signature": sign("guessed", ts, accepted.body)},
                )
                replayed = await client.post(
                    receiver.url,
                    content=accepted.body,
                    headers={"X-Regia-Timestamp": str(ts), "X-Regia-Signature": sign(secret, ts, accepted.body + b" ")},
                )
            assert forged.status_code == replayed.status_code == 401
            # The payloads' schema is public, as the checked-in file has it.
            async with httpx.AsyncClient(base_url=admin.base_url) as anonymous:
                served = await anonymous.get("/v1/webhooks/payload-schema")

            rows = await database.fetch("notifier", "SELECT t::text AS row FROM webhook_endpoints t")
            delivery_rows = await database.fetch("notifier", "SELECT t::text AS row FROM deliveries t")

    # Exactly one request accepted, after three refused; all of them signed correctly.
    assert [r.status for r in receiver.requests[:4]] == [503, 503, 503, 204]
    assert all(r.verified for r in receiver.requests[:4]) and len(receiver.accepted) == 1
    assert len(receiver.rejected) == 2
    body = json.loads(accepted.body)
    assert body["event_id"] == str(cause.event_id) and body["type"] == "ObjectiveStatusChanged"
    assert body["delivery_id"] == done["delivery_id"] and body["occurred_at"]
    assert body["objective"]["objective_id"] == "miglio-blu" and body["objective"]["status"] == "AT_RISK"
    assert body["objective"]["previous_status"] == "PARTIALLY_FUNDED"
    assert accepted.headers["Content-Type"] == "application/json"
    assert accepted.headers["X-Regia-Delivery-Id"] == done["delivery_id"]
    assert abs(int(accepted.headers["X-Regia-Timestamp"]) - time.time()) < 60
    assert served.status_code == 200 and served.json() == payload_schema.checked_in()
    assert schema_errors(receiver.requests, served.json()) == [] and len(receiver.requests) >= 4

    assert done["recipient"] == "liguria-hook" and done["partner_id"] == "regione-liguria"
    assert detail["attempts"] == 4
    log = detail["attempt_log"]
    assert [a["outcome"] for a in log] == ["FAILED"] * 3 + ["SENT"]
    assert all("503" in a["error"] for a in log[:3]) and log[3]["error"] is None
    webhook_events = [e for e in published if e.payload["channel"] == "webhook"]
    assert [(e.type, e.payload["recipient"], e.payload["attempts"]) for e in webhook_events] == [
        ("AlertDelivered", "liguria-hook", 4)
    ]
    assert len(smtp.messages) == 2  # the e-mails still go out alongside

    # The secret was shown once: never listed, never logged, never stored in clear.
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]
    assert all("secret" not in w for w in listed)
    logs = "\n".join(service_log) + caplog.text
    assert "delivery attempted" in logs  # the capture did see the service's log
    assert secret not in logs
    assert rows and all(secret not in r["row"] for r in rows)
    assert all(secret not in r["row"] for r in delivery_rows)


async def test_the_same_event_twice_is_one_webhook(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", Fernet.generate_key().decode())
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, monkeypatch) as admin:
            await register(admin, receiver)
            cause = status_changed()
            later = status_changed(status=CoverageStatus.UNFUNDED, previous=CoverageStatus.AT_RISK)
            # Same key, one partition: once the later change is delivered, the duplicates were handled.
            await kafka.publish_objectives(broker.bootstrap_servers, [cause, cause])
            await kafka.publish_objectives(broker.bootstrap_servers, [cause, later])
            await webhook_deliveries(admin, 2)
            await eventually(lambda: _ready(receiver.accepted, 2), what="two webhooks")
            rows = await database.fetch("notifier", "SELECT cause_event_id FROM deliveries WHERE channel = 'webhook'")
    assert sorted(json.loads(r.body)["event_id"] for r in receiver.requests) == sorted(
        [str(cause.event_id), str(later.event_id)]
    )
    assert schema_errors(receiver.requests) == []
    assert sorted(str(r["cause_event_id"]) for r in rows) == sorted([str(cause.event_id), str(later.event_id)])


async def test_a_webhook_named_by_host_is_called_at_the_address_that_was_checked(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The notifier checks a webhook's host at its addresses and then connects to one of
    those very addresses, the name kept in Host: a name that resolved elsewhere between the
    check and the call (DNS rebinding) could not redirect it. Here the name resolves, for
    the notifier's check only, to the receiver's loopback address; anything that resolved it
    again (httpx on its own) would find no such name and fail."""
    from ipaddress import ip_address

    from regia_notifier.adapters import resolver, webhook_sender
    from regia_notifier.entrypoints import webhooks_http

    name = "rebind-check.regia.invalid"
    real = resolver.addresses_of

    async def checked_once(host: str, port: int) -> list:
        return [ip_address("127.0.0.1")] if host == name else await real(host, port)

    monkeypatch.setattr(webhook_sender, "addresses_of", checked_once)
    monkeypatch.setattr(webhooks_http, "addresses_of", checked_once)
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", Fernet.generate_key().decode())
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, monkeypatch) as admin:
            by_name = receiver.url.replace("127.0.0.1", name)
            r = await admin.post(
                "/v1/webhooks", json={"webhook_id": "by-name", "partner_id": "regione-liguria", "url": by_name}
            )
            assert r.status_code == 201, r.text
            receiver.secret = r.json()["secret"]
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])
            await webhook_deliveries(admin, 1)
    (request,) = receiver.accepted
    port = receiver.url.split(":")[2].split("/")[0]
    assert request.headers["Host"] == f"{name}:{port}"


async def test_a_removed_endpoint_is_not_alerted(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", Fernet.generate_key().decode())
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, monkeypatch) as admin:
            await register(admin, receiver)
            assert (await admin.delete("/v1/webhooks/liguria-hook")).status_code == 204
            assert (await admin.delete("/v1/webhooks/liguria-hook")).status_code == 404
            assert [w["active"] for w in (await admin.get("/v1/webhooks")).json()["items"]] == [False]
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])
            done = await eventually(lambda: _delivered(admin, 2), what="the two e-mails")
    assert {d["channel"] for d in done} == {"email"} and receiver.requests == []


async def test_the_webhook_api_validates_and_needs_the_admin_token(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", Fernet.generate_key().decode())
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            r = await admin.post("/v1/webhooks", json={"partner_id": "regione-liguria", "url": "ftp://x.example/"})
            assert r.status_code == 422
            # A name that does not resolve is refused, naming it (this machine resolves no
            # public name; the test network, 127.0.0.0/8, is allowed: tests/support/services.py).
            r = await admin.post("/v1/webhooks", json={"partner_id": "regione-liguria", "url": "https://x.invalid/h"})
            assert r.status_code == 422 and "x.invalid resolves to no address" in r.json()["message"], r.text
            r = await admin.post("/v1/webhooks", json={"partner_id": "regione-liguria", "url": "https://127.0.0.1:9/h"})
            assert r.status_code == 201 and r.json()["webhook_id"] and len(r.json()["secret"]) >= 32
            again = await admin.post(
                "/v1/webhooks",
                json={"webhook_id": r.json()["webhook_id"], "partner_id": "p", "url": "https://127.0.0.2:9/"},
            )
            assert again.status_code == 409
            async with httpx.AsyncClient(base_url=str(admin.base_url)) as anonymous:
                assert (await anonymous.get("/v1/webhooks")).status_code == 401
                assert (await anonymous.post("/v1/webhooks", json={})).status_code == 401


async def test_without_a_secrets_key_the_webhook_api_says_what_to_set(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("REGIA_NOTIFIER_SECRETS_KEY", raising=False)
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            r = await admin.post("/v1/webhooks", json={"partner_id": "regione-liguria", "url": "https://x.example/"})
            assert r.status_code == 503 and "set REGIA_NOTIFIER_SECRETS_KEY" in r.text
            assert (await admin.get("/v1/webhooks")).status_code == 503
            assert (await admin.delete("/v1/webhooks/any")).status_code == 503


def _capture_structlog(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every line the service logs through structlog. Patched on the class rather than by
    swapping stderr: loggers cached by earlier tests keep the stream they were made with."""
    lines: list[str] = []
    for name in (
        "msg",
        "log",
        "debug",
        "info",
        "warn",
        "warning",
        "err",
        "error",
        "critical",
        "exception",
        "failure",
        "fatal",
    ):
        original = getattr(structlog.PrintLogger, name, None)
        if original is None:
            continue

        def tee(self, message: str, _original=original) -> None:  # type: ignore[no-untyped-def]
            lines.append(message)
            _original(self, message)

        monkeypatch.setattr(structlog.PrintLogger, name, tee)
    return lines


async def _delivered(admin: httpx.AsyncClient, count: int) -> list[dict] | None:
    found = (await admin.get("/v1/deliveries", params={"status": "DELIVERED"})).json()["items"]
    return found if len(found) == count else None


async def _ready(items: list, count: int) -> list | None:
    return items if len(items) >= count else None


async def test_a_webhook_aimed_inward_is_refused_at_registration_and_at_sending(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Production allows no private network: a loopback target is refused when registered,
    and one registered while a network was allowed is not called once that is withdrawn."""
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, monkeypatch, webhook_allowed_networks="") as admin:
            for url in (receiver.url, receiver.url.replace("http://", "https://"), "http://localhost:9/x"):
                r = await admin.post("/v1/webhooks", json={"partner_id": "regione-liguria", "url": url})
                assert r.status_code == 422, (url, r.text)
                body = r.json()
                assert body["error"] == "webhook_target_refused" and body["field"] == "url", body
                assert "not a public address" in body["message"], body
            assert (await admin.get("/v1/webhooks")).json()["items"] == []  # nothing stored

        # Registered while the test network was allowed ...
        async with notifier(broker, smtp, monkeypatch, webhook_allowed_networks="127.0.0.0/8") as admin:
            await register(admin, receiver, webhook_id="was-allowed")
        # ... and the network withdrawn before the alert: the call is not made.
        async with notifier(broker, smtp, monkeypatch, webhook_allowed_networks="") as admin:
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])

            async def failed_attempt() -> dict | None:
                for d in (await admin.get("/v1/deliveries", params={"recipient": "was-allowed"})).json()["items"]:
                    error = d["last_error"] or ""
                    if d["channel"] == "webhook" and "not sent" in error and "not a public address" in error:
                        return d
                return None

            await eventually(failed_attempt, what="the webhook call refused at sending")
        assert receiver.requests == []
