"""An SMTP server slower than the delivery's claim never gets the same message twice at once
(issue 22, item 5, the e-mail side).

Against a real PostgreSQL, broker and SMTP server (aiosmtpd), with the notifier in process:
the server answers MAIL, RCPT and the end of DATA each after 2 s, within the 3 s per-step
time limit (REGIA_SMTP_TIMEOUT_S) but, all told, longer than the 4 s claim. Such a send
used to run on after its claim ran out, while the reaper had the delivery retried: a second
session carried the same message while the first was open, and both were delivered. Now
the send is cut where a webhook call is (three quarters of the claim): a failed attempt
saying so, retried with back-off, and once the server is quick again delivered once.
No assertion is on durations: they are on order (which transactions were open together,
in the server's own sequence of events) and on counts."""

import httpx
import pytest

from ..integration.test_notifier import JOHN, MARIA, deliveries, notifier, settled, status_changed
from ..support import kafka
from ..support.figures import record
from ..support.infra import Database
from ..support.smtp import SmtpCapture
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")


async def _attempt_logs(admin: httpx.AsyncClient) -> dict[str, list[dict]]:
    found = {}
    for d in await deliveries(admin):
        detail = (await admin.get(f"/v1/deliveries/{d['delivery_id']}")).json()
        found[d["delivery_id"]] = detail["attempt_log"]
    return found


async def test_a_send_slower_than_the_claim_is_cut_and_never_open_twice(
    broker, database: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_SMTP_TIMEOUT_S", "3")  # per step: the server's 2 s never trips it
    with SmtpCapture(step_delay_s=2) as smtp:
        async with notifier(
            broker, smtp, monkeypatch, lease_s="4", webhook_timeout_s="1", max_attempts="20", poll_interval_s="0.5"
        ) as admin:
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])

            async def each_tried() -> dict[str, list[dict]] | None:
                logs = await _attempt_logs(admin)
                return logs if len(logs) == 2 and all(logs.values()) else None

            await eventually(each_tried, timeout=120, what="an attempt over for each of the two e-mails")
            smtp.step_delay_s = 0  # the server is quick again: the next attempt goes through
            done = await settled(admin, 2)
            logs = await _attempt_logs(admin)

            async def none_half_done() -> bool:
                return smtp.transactions_open == 0

            await eventually(none_half_done, what="no connection left holding a half-done transaction")

    # Never two transactions open at once for one recipient (one delivery each here).
    assert smtp.most_open_per_recipient == {MARIA: 1, JOHN: 1}, smtp.most_open_per_recipient
    # Each delivered exactly once: one message per delivery, named by its id.
    assert {m["Message-ID"].strip("<>").split("@")[0] for m in smtp.messages} == {d["delivery_id"] for d in done}
    assert len(smtp.messages) == 2
    for attempts in logs.values():
        *cut, last = attempts
        assert last["outcome"] == "SENT", attempts
        assert cut and [a["outcome"] for a in cut] == ["FAILED"] * len(cut), attempts
        assert all("no complete SMTP exchange within the" in a["error"] and "time limit" in a["error"] for a in cut), (
            attempts
        )
    # Every cut session was hung up by the notifier (none kept for another message).
    assert smtp.dropped >= 2
    record(
        "smtp server slower than the delivery's claim",
        faults=1,
        requests=sum(len(a) for a in logs.values()),
        euros_lost=0,
        alerts_duplicated=0,
        alerts_resent=0,
    )
