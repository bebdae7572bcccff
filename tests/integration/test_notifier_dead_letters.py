"""Dead letters against a real PostgreSQL, broker and SMTP server: a mail server that refuses
everything kills the deliveries; once it accepts again an administrator retries them, each
mail then arrives once, after a fresh budget of attempts, and nothing else is touched."""

import uuid

import httpx
import pytest

from ..support import kafka
from ..support.smtp import SmtpCapture
from .test_notifier import JOHN, MARIA, deliveries, notifier, settled, status_changed

pytestmark = pytest.mark.usefixtures("service_env")

# The fallback poll is longer than any wait here: a retried delivery is sent only because
# the retry woke the dispatcher, as it would in production a minute sooner.
SETTINGS = {"max_attempts": "2", "poll_interval_s": "60"}


async def dead_letters(admin: httpx.AsyncClient, **query: str) -> list[dict]:
    r = await admin.get("/v1/dead-letters", params=query)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def retry(admin: httpx.AsyncClient, body: dict) -> dict:
    r = await admin.post("/v1/dead-letters/retry", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def detail(admin: httpx.AsyncClient, delivery_id: str) -> dict:
    r = await admin.get(f"/v1/deliveries/{delivery_id}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_dead_letter_retried_once_the_server_accepts_is_mailed_once(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture(refuse_always=True) as smtp:
        async with notifier(broker, smtp, monkeypatch, **SETTINGS) as admin:
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])
            await settled(admin, 2, status="DEAD")
            dead = await dead_letters(admin)
            by_recipient = {d["recipient"]: d for d in dead}
            maria, john = by_recipient[MARIA]["delivery_id"], by_recipient[JOHN]["delivery_id"]
            assert sorted(by_recipient) == sorted([MARIA, JOHN]) and smtp.refused == 4
            assert all(d["attempts"] == 2 and "451" in d["last_error"] for d in dead)
            assert [d["finished_at"] for d in dead] == sorted((d["finished_at"] for d in dead), reverse=True)
            assert [d["delivery_id"] for d in await dead_letters(admin, contact_id="rossi")] == [maria]
            assert await dead_letters(admin, channel="webhook") == []

            smtp.refuse_always = False
            unknown = str(uuid.uuid4())
            assert await retry(admin, {"delivery_ids": [maria, unknown, maria]}) == {
                "retried": [maria],
                "not_dead": [],
                "unknown": [unknown],
            }
            await settled(admin, 1)  # within the 30 s wait only if the retry woke the dispatcher
            delivered = await detail(admin, maria)
            # Retrying it again, now that it is delivered, is reported and changes nothing.
            assert await retry(admin, {"delivery_ids": [maria]}) == {"retried": [], "not_dead": [maria], "unknown": []}
            assert await detail(admin, maria) == delivered
            # John's was not asked for: still dead, untouched.
            assert [d["delivery_id"] for d in await dead_letters(admin)] == [john]
            assert (await detail(admin, john))["attempts"] == 2

            # Everything that is dead (of this objective) goes back too.
            assert await retry(admin, {"all": True, "objective_id": "miglio-blu"}) == {
                "retried": [john],
                "not_dead": [],
                "unknown": [],
            }
            await settled(admin, 2)
            assert await dead_letters(admin) == []
            mine = (await admin.get("/v1/contacts/rossi/deliveries")).json()["items"]
            theirs = (await admin.get("/v1/contacts/smith/deliveries", params={"status": "DEAD"})).json()["items"]
            by_address = await deliveries(admin, recipient=MARIA.upper())
            by_contact = await deliveries(admin, contact_id="smith")

    mails = smtp.messages
    assert sorted(m["To"].addresses[0].addr_spec for m in mails) == sorted([MARIA, JOHN])  # once each
    assert delivered["status"] == "DELIVERED" and delivered["attempts"] == 3
    assert delivered["retry_from"] == 2 and delivered["finished_at"] and delivered["last_error"] is None
    log = delivered["attempt_log"]
    assert [a["outcome"] for a in log] == ["FAILED", "FAILED", "SENT"]
    assert all("451" in a["error"] for a in log[:2])
    assert delivered["kind"] == "alert" and "body_html" in delivered and "rules" in delivered
    assert [d["delivery_id"] for d in mine] == [maria] and mine[0]["status"] == "DELIVERED"
    assert {"kind", "trigger", "rules"} <= mine[0].keys()
    assert theirs == []
    assert [d["delivery_id"] for d in by_address] == [maria]
    assert [d["delivery_id"] for d in by_contact] == [john]


async def test_a_retry_says_either_which_or_all(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            for body in (
                {},
                {"all": True, "delivery_ids": [str(uuid.uuid4())]},
                {"all": False},
                {"delivery_ids": [str(uuid.uuid4())], "channel": "email"},
            ):
                r = await admin.post("/v1/dead-letters/retry", json=body)
                assert r.status_code == 422, (body, r.text)
                assert "delivery_ids" in r.json()["message"], r.text
            r = await admin.post("/v1/dead-letters/retry", json={"delivery_ids": ["not-an-id"]})
            assert r.status_code == 422 and r.json()["field"] == "delivery_ids.0"
            assert await retry(admin, {"all": True}) == {"retried": [], "not_dead": [], "unknown": []}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
async def test_dead_letters_and_a_persons_deliveries_need_the_admin_token(
    broker, database, monkeypatch, headers
) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            async with httpx.AsyncClient(base_url=str(admin.base_url), headers=headers) as anonymous:
                assert (await anonymous.get("/v1/dead-letters")).status_code == 401
                r = await anonymous.post("/v1/dead-letters/retry", json={"all": True})
                assert r.status_code == 401
                assert (await anonymous.get("/v1/contacts/rossi/deliveries")).status_code == 401
