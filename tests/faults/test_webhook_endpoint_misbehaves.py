"""A partner's webhook endpoint that misbehaves hurts only its own deliveries (issue 22).

Against a real PostgreSQL, broker, SMTP server and HTTP receiver, with the notifier in
process: an endpoint that holds its replies open holds only its own sending slots (every
other partner's e-mail goes out while its first requests are still open); a reply slower
than the time limit is a failed attempt, and the same delivery is never sent again while
an earlier request for it is open; a 300 MB error reply is not read, only its first bytes.
No assertion is on wall-clock durations: they are on order (what completed while what was
still open) and on counts, so a slow machine makes them slower, not flaky."""

import json
import resource
import threading

import httpx
import pytest
from cryptography.fernet import Fernet

from regia_shared.contracts import topics

from ..integration.test_notifier import lead, notifier, status_changed
from ..integration.test_notifier_webhooks import register
from ..support import kafka
from ..support.figures import record
from ..support.infra import Database
from ..support.smtp import SmtpCapture
from ..support.wait import eventually
from ..support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.usefixtures("service_env")

ANNA = "anna.bianchi@comune.sp.it"
HUGE = 300 * 1024 * 1024


async def _webhook_deliveries(admin: httpx.AsyncClient, status: str) -> list[dict]:
    r = await admin.get("/v1/deliveries", params={"status": status})
    assert r.status_code == 200, r.text
    return [d for d in r.json()["items"] if d["channel"] == "webhook"]


async def test_a_slow_endpoint_holds_only_its_own_slots(broker, database: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_NOTIFIER_GROUP_WAIT_S", "3")  # one cause in one e-mail, even on a loaded machine
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", Fernet.generate_key().decode())
    # Each: one call to Liguria's endpoint; together, within a grouping window, one e-mail
    # to each of Liguria's two contacts.
    events = 12
    hold = threading.Event()
    with SmtpCapture() as smtp, WebhookReceiver(hold=hold) as receiver:
        # Four sending slots, two of which one endpoint may hold; its calls may last 40 s.
        async with notifier(
            broker, smtp, monkeypatch, concurrency="4", webhook_concurrency="2", webhook_timeout_s="40", lease_s="60"
        ) as admin:
            await register(admin, receiver)
            await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, [lead("porto-verde", "comune-spezia")])

            async def projected() -> bool:
                body = (await admin.get("/v1/objectives/porto-verde/recipients")).json()
                return [c["email"] for c in body["contacts"]] == [ANNA]

            await eventually(projected, what="the Comune as Porto Verde's lead")
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed() for _ in range(events)])

            async def slow_calls_open() -> bool:
                return receiver.open_now >= 2

            await eventually(slow_calls_open, what="Liguria's endpoint holding calls open")
            # Another partner's alert, planned while the slow endpoint has a backlog.
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed("porto-verde")])

            async def mails_or_a_slow_call_over() -> str | None:
                if receiver.ended:
                    return "a call to the slow endpoint ended first"
                if len(smtp.messages) == 2 + 1:  # Liguria's two contacts, and Anna
                    return "every e-mail"
                return None

            first = await eventually(
                mails_or_a_slow_call_over, timeout=120, what="all e-mails, or the end of a slow call"
            )
            open_while_mailed, most_open = receiver.open_now, receiver.most_open
            hold.set()
            done = await eventually(
                lambda: _all(admin, "DELIVERED", events), timeout=60, what="every webhook delivered once released"
            )

    # Every e-mail, Anna's included, went out while the slow endpoint's first calls were
    # still open: it held its own two slots, never the other two.
    assert first == "every e-mail", first
    assert ANNA in {m["To"].addresses[0].addr_spec for m in smtp.messages}
    assert open_while_mailed == most_open == 2
    assert len(done) == events and len(receiver.accepted) == events
    assert max(receiver.most_open_per_delivery.values()) == 1
    record(
        "slow webhook endpoint holds only its own slots", faults=1, requests=events, euros_lost=0, alerts_duplicated=0
    )


async def test_a_reply_slower_than_the_time_limit_fails_and_is_never_sent_twice_at_once(
    broker, database: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", Fernet.generate_key().decode())
    # The reply's header trickles in a byte every 0.2 s: never silent for a whole second,
    # never complete. The lease is short (4 s), so that a send which outlives it shows.
    monkeypatch.setenv("REGIA_SMTP_TIMEOUT_S", "2")
    with SmtpCapture() as smtp, WebhookReceiver(trickle_s=0.2, trickle_for_s=30) as receiver:
        async with notifier(
            broker, smtp, monkeypatch, webhook_timeout_s="1", lease_s="4", max_attempts="3", poll_interval_s="0.5"
        ) as admin:
            await register(admin, receiver)
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])
            (dead,) = await eventually(
                lambda: _all(admin, "DEAD", 1), timeout=120, what="the webhook delivery dead after three attempts"
            )
            detail = (await admin.get(f"/v1/deliveries/{dead['delivery_id']}")).json()
            await eventually(lambda: _none_open(receiver), what="the receiver's calls hung up")

    # One request open at a time for this delivery, and each one hung up by the notifier.
    assert receiver.most_open_per_delivery[dead["delivery_id"]] == 1
    attempts = detail["attempt_log"]
    assert [a["outcome"] for a in attempts] == ["FAILED"] * 3, attempts
    assert all("time limit" in a["error"] for a in attempts), attempts
    calls = [r for r in receiver.requests if r.headers["X-Regia-Delivery-Id"] == dead["delivery_id"]]
    assert len(calls) == 3 and all(r.hung_up for r in calls)
    record(
        "webhook reply slower than its time limit",
        faults=1,
        requests=len(calls),
        euros_lost=0,
        alerts_duplicated=0,
        alerts_resent=0,
    )


async def test_a_huge_error_reply_is_not_read(broker, database: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", Fernet.generate_key().decode())
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    with SmtpCapture() as smtp, WebhookReceiver(huge_error_bytes=HUGE) as receiver:
        async with notifier(broker, smtp, monkeypatch, max_attempts="1") as admin:
            await register(admin, receiver)
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])
            (dead,) = await eventually(
                lambda: _all(admin, "DEAD", 1), timeout=60, what="the webhook delivery dead after its one attempt"
            )
            detail = (await admin.get(f"/v1/deliveries/{dead['delivery_id']}")).json()
            await eventually(lambda: _none_open(receiver), what="the receiver's call over")
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

    (attempt,) = detail["attempt_log"]
    assert attempt["outcome"] == "FAILED" and "HTTP 500" in attempt["error"], attempt
    assert "upstream exploded" in attempt["error"] and len(attempt["error"]) <= 1000
    (call,) = receiver.requests
    # The notifier hung up after its first bytes: what the receiver got out is what the
    # sockets' buffers took, a few MiB at most, not the 300 MiB it had to send.
    assert call.hung_up and call.reply_bytes < 32 * 1024 * 1024, call.reply_bytes
    record(
        "webhook answers a 300 MB error",
        faults=1,
        requests=1,
        euros_lost=0,
        alerts_duplicated=0,
        peak_rss_mib=peak_after,
    )
    print(f"reply bytes sent before hang-up: {call.reply_bytes}; peak RSS {peak_before} -> {peak_after} MiB")
    assert json.loads(call.body)["delivery_id"] == dead["delivery_id"]


async def _all(admin: httpx.AsyncClient, status: str, count: int) -> list[dict] | None:
    found = await _webhook_deliveries(admin, status)
    return found if len(found) == count else None


async def _none_open(receiver: WebhookReceiver) -> bool:
    return receiver.open_now == 0 and bool(receiver.requests)
