"""Planning alerts from an occurrence: each person's e-mail alert queued once, with the
cadence their preferences say, and its occurrence kept for the message; webhooks per
endpoint, at once; stable ids. Pure."""

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from regia_notifier.domain.delivery import Recipient, WebhookTarget, delivery_id
from regia_notifier.domain.occurrence_codec import decode
from regia_notifier.domain.occurrences import StatusChange, Trigger
from regia_notifier.domain.planning import Cause, DigestTimes, plan_alerts
from regia_shared.contracts.events.objectives import CoverageStatus

CHANGE = StatusChange(
    "miglio-blu",
    "Miglio Blu",
    2027,
    CoverageStatus.PARTIALLY_FUNDED,
    CoverageStatus.AT_RISK,
    4550,
    5_000_000_00,
    2_275_000_00,
    80,
)
AT = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
CAUSE = Cause(uuid.uuid4(), "ObjectiveStatusChanged", "corr-1", AT)
DAILY = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
WEEKLY = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
ROSSI = Recipient("rossi", "regione-liguria", "Maria Rossi", "maria.rossi@regione.liguria.it", "it")
SMITH = Recipient("smith", "regione-liguria", "John Smith", "john.smith@regione.liguria.it", "en")
BIANCHI = Recipient("bianchi", "comune-spezia", "Anna Bianchi", "anna.bianchi@comune.sp.it", "it")
LEAD = {"regione-liguria": ("status-worsened-lead",)}


def plan(reached, people, endpoints=()):  # type: ignore[no-untyped-def]
    return plan_alerts(CHANGE, reached, list(people), list(endpoints), CAUSE, digests=DigestTimes(DAILY, WEEKLY))


def test_each_contact_of_a_reached_partner_is_queued_once_in_their_language_with_the_occurrence() -> None:
    planned = plan(LEAD, [ROSSI, SMITH, BIANCHI])
    assert [(q.email, q.language, q.cadence) for q in planned.queued] == [
        (ROSSI.email, "it", "immediate"),
        (SMITH.email, "en", "immediate"),
    ]
    first = planned.queued[0]
    assert (first.cause_event_id, first.correlation_id) == (CAUSE.event_id, "corr-1")
    assert first.rules == ("status-worsened-lead",) and first.trigger == "status_changed"
    assert "A RISCHIO" in first.subject and planned.queued[1].subject.endswith("at risk")
    # The message is written from the occurrence when it goes: it survives the round trip.
    assert decode(json.loads(json.dumps(first.occurrence))) == CHANGE
    assert planned.deliveries == []


def test_one_person_reached_by_two_rules_through_two_partners_is_told_once_with_both_rules() -> None:
    twin = Recipient("rossi-2", "comune-spezia", "Maria Rossi", ROSSI.email.upper(), "it")
    reached = {"regione-liguria": ("status-worsened-lead",), "comune-spezia": ("status-partners",)}
    planned = plan(reached, [ROSSI, twin])
    assert len(planned.queued) == 1
    assert planned.queued[0].rules == ("status-partners", "status-worsened-lead")


def test_preferences_choose_kinds_channels_and_cadence() -> None:
    no_status = Recipient("rossi", "regione-liguria", "Maria", ROSSI.email, "it", event_kinds=("line_revoked",))
    webhook_only = Recipient("smith", "regione-liguria", "John", SMITH.email, "en", channels=("webhook",))
    daily = Recipient("verdi", "regione-liguria", "Luca Verdi", "luca@regione.liguria.it", "en", cadence="daily_digest")
    weekly = Recipient("neri", "regione-liguria", "Ada Neri", "ada@regione.liguria.it", "it", cadence="weekly_digest")
    planned = plan(LEAD, [no_status, webhook_only, daily, weekly])
    assert planned.deliveries == []
    assert [(q.email, q.cadence, q.due_at) for q in planned.queued] == [
        ("luca@regione.liguria.it", "daily_digest", DAILY),
        ("ada@regione.liguria.it", "weekly_digest", WEEKLY),
    ]


def test_one_webhook_per_endpoint_of_a_reached_partner_following_its_contacts_preferences() -> None:
    a = WebhookTarget("hook-a", "regione-liguria", None, "https://a.example/h")
    b = WebhookTarget("hook-b", "regione-liguria", "smith", "https://b.example/h")
    other = WebhookTarget("hook-c", "comune-spezia", None, "https://c.example/h")
    mail_only = Recipient("smith", "regione-liguria", "John", SMITH.email, "en", channels=("email",))
    planned = plan(LEAD, [mail_only], [a, b, a, other])
    hooks = [d for d in planned.deliveries if d.channel == "webhook"]
    assert [(d.recipient, d.recipient_name) for d in hooks] == [("hook-a", "https://a.example/h")]
    body = json.loads(hooks[0].body)
    assert body["type"] == "ObjectiveStatusChanged" and body["alert"] == "status_changed"
    assert body["rules"] == ["status-worsened-lead"] and body["occurred_at"] == AT.isoformat()
    assert body["objective"]["status"] == "AT_RISK" and body["objective"]["previous_status"] == "PARTIALLY_FUNDED"
    assert hooks[0].delivery_id == delivery_id(CAUSE.event_id, "webhook", "hook-a")


def test_re_planning_yields_the_same_keys_and_nobody_reached_plans_nothing() -> None:
    first, again = plan(LEAD, [ROSSI]), plan(LEAD, [ROSSI])
    assert [(q.cause_event_id, q.email) for q in first.queued] == [(q.cause_event_id, q.email) for q in again.queued]
    empty = plan({}, [ROSSI, SMITH], [WebhookTarget("hook-a", "regione-liguria", None, "https://a.example/h")])
    assert empty.deliveries == [] and empty.queued == []


def test_each_kind_has_its_own_cadence_and_off_stops_its_e_mails_but_not_its_webhooks() -> None:
    person = Recipient(
        "smith",
        "regione-liguria",
        "John",
        SMITH.email,
        "en",
        cadence="weekly_digest",
        kinds=(("funding_dropped", "off"), ("status_changed", "daily_digest")),
    )
    assert person.cadence_for("status_changed") == "daily_digest"
    assert person.cadence_for(Trigger.STATUS_CHANGED) == "daily_digest"  # a Trigger is its string
    assert person.cadence_for("review_closed") == "weekly_digest"  # not named: the contact's cadence
    assert person.cadence_for("a_kind_added_later") == "weekly_digest"
    assert not person.wants(Trigger.FUNDING_DROPPED, "email") and person.wants(Trigger.FUNDING_DROPPED, "webhook")
    assert person.wants(Trigger.STATUS_CHANGED, "email")
    # The cadence of a kind turned off is never asked for a delivery; asked, it is the default.
    assert person.cadence_for("funding_dropped") == "weekly_digest"

    [entry] = plan(LEAD, [person]).queued  # status_changed: its daily digest
    assert (entry.contact_id, entry.cadence, entry.due_at) == ("smith", "daily_digest", DAILY)
    weekly = replace(person, kinds=())
    [entry] = plan(LEAD, [weekly]).queued
    assert (entry.cadence, entry.due_at) == ("weekly_digest", WEEKLY)
    told_at_once = replace(person, kinds=(("status_changed", "immediate"),))
    [mail] = plan(LEAD, [told_at_once]).queued
    assert (mail.email, mail.cadence) == (SMITH.email, "immediate")
    off = replace(person, kinds=(("status_changed", "off"),))
    hook = WebhookTarget("hook-b", "regione-liguria", "smith", "https://b.example/h")
    planned = plan(LEAD, [off], [hook])
    assert planned.queued == [] and [d.channel for d in planned.deliveries] == ["webhook"]
