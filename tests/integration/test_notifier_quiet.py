"""No floods, against the real PostgreSQL, broker and SMTP server: a year's first status and
the years before the budget window never alert; an alert that reaches nobody is kept,
counted and listed; a lead assigned later is told the objective's current state once."""

import json
import uuid

import httpx
import pytest

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import (
    CoverageStatus,
    ObjectiveStatusChanged,
)
from regia_shared.contracts.events.plans import AnnualReviewClosed

from ..support import kafka
from ..support.infra import Database
from ..support.objectives_events import coverage_changed
from ..support.smtp import SmtpCapture
from ..support.wait import eventually
from ..support.webhook_receiver import WebhookReceiver, schema_errors
from .test_notifier import JOHN, MARIA, _ready, deliveries, lead, metric, notifier, settled
from .test_notifier_rules import delivered
from .test_notifier_rules import notifier as rules_notifier

pytestmark = pytest.mark.usefixtures("service_env")

S = CoverageStatus


def status(
    year: int, previous: CoverageStatus | None, now: CoverageStatus, objective_id: str = "miglio-blu"
) -> Envelope:
    payload = ObjectiveStatusChanged(
        objective_id=objective_id,
        title="Miglio Blu" if objective_id == "miglio-blu" else "Rete per il lavoro",
        fiscal_year=year,
        previous_status=previous,
        status=now,
        coverage_bp=4550,
        need_cents=5_000_000_00,
        committed_cents=2_275_000_00,
        at_risk_threshold_pct=80,
    )
    return Envelope.wrap(payload, key=objective_id, producer="objectives")


def coverage(year: int, committed: int) -> Envelope:
    return coverage_changed(committed, fiscal_year=year, need_cents=5_000_000_00, status=S.AT_RISK)


def review_closed(year: int) -> Envelope:
    payload = AnnualReviewClosed(
        plan_id="piano-2030",
        fiscal_year=year,
        need_cents=0,
        committed_cents=0,
        disbursed_cents=0,
        coverage_bp=0,
        nodes_by_status={},
    )
    return Envelope.wrap(payload, key="piano-2030", producer="objectives")


async def consumed(database: Database, *events: Envelope) -> None:
    async def all_in() -> bool:
        n = await database.fetchval(
            "notifier", "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", [e.event_id for e in events]
        )
        return n == len({e.event_id for e in events})

    await eventually(all_in, what=f"{len(events)} events consumed")


async def subjects(admin: httpx.AsyncClient) -> list[tuple[str, str]]:
    return sorted((d["recipient"], d["subject"]) for d in await deliveries(admin))


async def test_a_years_first_status_is_no_alert_and_its_next_change_is(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", "2025")
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            # Created or imported already unfunded, at risk, or funded: none is a change.
            firsts = [
                status(year, None, now) for year, now in ((2026, S.UNFUNDED), (2027, S.AT_RISK), (2028, S.FUNDED))
            ]
            await kafka.publish_objectives(broker.bootstrap_servers, firsts)
            await consumed(database, *firsts)
            assert await deliveries(admin) == []
            # The same year's next change is an alert, as it always was.
            worse = status(2027, S.AT_RISK, S.UNFUNDED)
            await kafka.publish_objectives(broker.bootstrap_servers, [worse])
            await settled(admin, 2)
            assert await subjects(admin) == [
                (JOHN, "[Regia] Miglio Blu 2027: not funded"),
                (MARIA, "[Regia] Miglio Blu 2027: NON FINANZIATO"),
            ]
            assert await database.fetchval("notifier", "SELECT count(*) FROM unaddressed_alerts") == 0
    assert len(smtp.messages) == 2


async def test_years_before_the_window_never_alert_and_a_closed_review_moves_it(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_NOTIFIER_GROUP_WAIT_S", "3")  # one cause in one e-mail, even on a loaded machine
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", "2026")
    monkeypatch.setenv("REGIA_TODAY", "2027-01-20")  # 2026 has ended: its review closes it
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            # Each year's amount known first (no drop the first time), then the history.
            known = [coverage(year, 4_000_000_00) for year in (2025, 2026, 2027)]
            old = [status(2025, S.PARTIALLY_FUNDED, S.UNFUNDED), coverage(2025, 1_000_000_00)]
            await kafka.publish_objectives(broker.bootstrap_servers, known + old)
            await consumed(database, *known, *old)
            assert await deliveries(admin) == []  # 2025 is before the window's first year, 2026
            in_window = status(2026, S.PARTIALLY_FUNDED, S.AT_RISK)
            await kafka.publish_objectives(broker.bootstrap_servers, [in_window])
            await settled(admin, 2)
            # The review of 2026 closes it: from then on 2026 is history too, 2027 is not.
            closed = review_closed(2026)  # another key: handled in its own order, so awaited
            await kafka.publish_objectives(broker.bootstrap_servers, [closed])
            await consumed(database, closed)
            assert await database.fetchval("notifier", "SELECT last_closed_year FROM budget_window") == 2026
            after = [status(2026, S.AT_RISK, S.UNFUNDED), coverage(2026, 1_000_000_00)]
            await kafka.publish_objectives(broker.bootstrap_servers, after)
            await consumed(database, *after)
            still = [status(2027, S.PARTIALLY_FUNDED, S.AT_RISK), coverage(2027, 1_000_000_00)]
            await kafka.publish_objectives(broker.bootstrap_servers, still)
            await settled(admin, 4)
            by_cause: dict[str, int] = {}
            for d in await deliveries(admin):
                by_cause[d["cause_event_id"]] = by_cause.get(d["cause_event_id"], 0) + 1
    # Each to Maria and John (2027's status change and drop in one message, filed under its
    # first event); nothing of 2025, nor of 2026 once closed.
    # (Both of 2027's alerts were queued in one transaction: either may be the first.)
    assert len(by_cause) == 2 and by_cause[str(in_window.event_id)] == 2
    assert [n for cause, n in by_cause.items() if cause in {str(e.event_id) for e in still}] == [2]
    assert len(smtp.messages) == 4


async def test_an_alert_that_reaches_nobody_is_kept_counted_and_listed(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", "2025")
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            orphan = status(2027, S.PARTIALLY_FUNDED, S.AT_RISK, objective_id="rete-per-il-lavoro")
            await kafka.publish_objectives(broker.bootstrap_servers, [orphan, orphan])
            await consumed(database, orphan)

            async def listed() -> list[dict] | None:
                found = (await admin.get("/v1/alerts/unaddressed")).json()["items"]
                return found or None

            (kept,) = await eventually(listed, what="the unaddressed alert listed")
            assert await metric(admin, 'regia_notifier_alerts_unaddressed_total{trigger="status_changed"} 1.0')
            page = (await admin.get("/v1/alerts/unaddressed", params={"limit": 1})).json()
            assert page == {"items": [kept], "next_cursor": None}
            assert (
                await admin.get("/v1/alerts/unaddressed", headers={"Authorization": "Bearer nope"})
            ).status_code in (
                401,
                403,
            )
            assert await deliveries(admin) == []
    assert smtp.messages == []
    assert kept["cause_event_id"] == str(orphan.event_id) and kept["trigger"] == "status_changed"
    assert (kept["objective_id"], kept["fiscal_year"]) == ("rete-per-il-lavoro", 2027)
    assert kept["rules"] == ["status-worsened-lead"] and kept["partners"] == []
    assert kept["reason"] == "no partner holds the rules' audiences" and kept["occurred_at"]


async def test_a_lead_assigned_later_is_told_the_current_state_once(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", "2025")
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            rete = "rete-per-il-lavoro"
            history = [
                status(2024, None, S.UNFUNDED, rete),  # before the window
                status(2025, None, S.FUNDED, rete),  # funded: nothing to act on
                status(2026, None, S.PARTIALLY_FUNDED, rete),
                status(2026, S.PARTIALLY_FUNDED, S.AT_RISK, rete),  # nobody to tell yet: kept
                status(2027, None, S.UNFUNDED, rete),
            ]
            await kafka.publish_objectives(broker.bootstrap_servers, history)
            await consumed(database, *history)
            assert await deliveries(admin) == []
            assigned = lead(rete, "regione-liguria")
            await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, [assigned, assigned])
            done = await settled(admin, 2)
            # Replayed, or the same lead confirmed by a later event: nothing more.
            again = lead(rete, "regione-liguria")
            await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, [assigned, again])
            await consumed(database, assigned, again)
            assert len(await deliveries(admin)) == 2
            mails = await eventually(lambda: _ready(smtp.messages, 2), what="two e-mails")
    assert {d["cause_event_id"] for d in done} == {str(assigned.event_id)}
    assert {d["trigger"] for d in done} == {"current_state"} and {d["objective_id"] for d in done} == {rete}
    by_to = {m["To"].addresses[0].addr_spec: m for m in mails}
    assert sorted(by_to) == sorted([MARIA, JOHN])
    italian = by_to[MARIA].get_body(("plain",)).get_content()
    assert by_to[MARIA]["Subject"] == "[Regia] Rete per il lavoro: stato attuale degli anni non finanziati"
    assert "Anno 2026: A RISCHIO" in italian and "Anno 2027: NON FINANZIATO" in italian
    assert "2024" not in italian and "2025" not in italian
    assert "Year 2027: not funded" in by_to[JOHN].get_body(("plain",)).get_content()
    assert uuid.UUID(done[0]["delivery_id"])


async def test_a_lead_assigned_before_the_first_status_is_told_it_when_the_status_arrives(  # type: ignore[no-untyped-def]
    broker, database, monkeypatch
) -> None:
    # The assignment (partners topic) and the statuses (coverage topic) come through two
    # consumers with no order between them: an assignment first is owed its briefing.
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", "2025")
    with SmtpCapture() as smtp:
        async with notifier(broker, smtp, monkeypatch) as admin:
            rete = "rete-per-il-lavoro"
            assigned = lead(rete, "regione-liguria")
            await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, [assigned])
            await consumed(database, assigned)
            assert await deliveries(admin) == []  # nothing known of the objective yet
            first = [status(2026, None, S.PARTIALLY_FUNDED, rete), status(2027, None, S.UNFUNDED, rete)]
            await kafka.publish_objectives(broker.bootstrap_servers, first)
            done = await settled(admin, 2)
            mails = await eventually(lambda: _ready(smtp.messages, 2), what="two e-mails")
            owed = await database.fetchval("notifier", "SELECT count(*) FROM owed_briefings")
    assert owed == 0
    assert {(d["trigger"], d["objective_id"], d["cause_event_id"]) for d in done} == {
        ("current_state", rete, str(assigned.event_id))
    }
    italian = next(m for m in mails if m["To"].addresses[0].addr_spec == MARIA).get_body(("plain",)).get_content()
    assert "Anno 2027: NON FINANZIATO" in italian


async def test_the_current_state_goes_by_email_and_webhook_as_other_alerts(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", "2025")
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with rules_notifier(broker, smtp, receiver, monkeypatch, "regione-liguria") as admin:
            first = status(2027, None, S.UNFUNDED, objective_id="lavoro")
            await kafka.publish_objectives(broker.bootstrap_servers, [first])
            await consumed(database, first)
            assigned = lead("lavoro", "regione-liguria")
            await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, [assigned])
            done, mails = await delivered(admin, smtp, receiver, emails=2)
    assert sorted(mails) == sorted([MARIA, JOHN])  # the lead only, not the plan's network members
    assert {(d["channel"], d["trigger"], d["cause_event_id"]) for d in done} == {
        (channel, "current_state", str(assigned.event_id)) for channel in ("email", "webhook")
    }
    [request] = receiver.accepted
    body = json.loads(request.body)
    assert request.verified and body["alert"] == "current_state" and body["type"] == "ObjectiveLeadAssigned"
    assert body["objective"]["objective_id"] == "lavoro"
    assert [(y["fiscal_year"], y["status"]) for y in body["objective"]["years"]] == [(2027, "UNFUNDED")]
    assert schema_errors([request]) == []  # the published schema holds for the current state too
