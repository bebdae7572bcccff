"""Planning alerts from an occurrence: each person told once, as their preferences say;
webhooks per endpoint; stable ids. Pure."""

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from regia_notifier.domain.delivery import Recipient, WebhookTarget, delivery_id
from regia_notifier.domain.occurrences import StatusChange, Trigger
from regia_notifier.domain.planning import Cause, plan_alerts
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
DUE = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
ROSSI = Recipient("rossi", "regione-liguria", "Maria Rossi", "maria.rossi@regione.liguria.it", "it")
SMITH = Recipient("smith", "regione-liguria", "John Smith", "john.smith@regione.liguria.it", "en")
BIANCHI = Recipient("bianchi", "comune-spezia", "Anna Bianchi", "anna.bianchi@comune.sp.it", "it")
LEAD = {"regione-liguria": ("status-worsened-lead",)}


def plan(reached, people, endpoints=()):  # type: ignore[no-untyped-def]
    return plan_alerts(CHANGE, reached, list(people), list(endpoints), CAUSE, digest_due_at=DUE)


def test_each_contact_of_a_reached_partner_gets_one_email_in_their_language() -> None:
    planned = plan(LEAD, [ROSSI, SMITH, BIANCHI])
    assert [(d.recipient, d.language) for d in planned.deliveries] == [(ROSSI.email, "it"), (SMITH.email, "en")]
    first = planned.deliveries[0]
    assert first.delivery_id == delivery_id(CAUSE.event_id, "email", ROSSI.email)
    assert first.rules == ("status-worsened-lead",) and first.trigger == "status_changed"
    assert "A RISCHIO" in first.subject and first.body_html and "<html" in first.body_html.lower()
    assert planned.digest == []


def test_one_person_reached_by_two_rules_through_two_partners_is_told_once_with_both_rules() -> None:
    twin = Recipient("rossi-2", "comune-spezia", "Maria Rossi", ROSSI.email.upper(), "it")
    reached = {"regione-liguria": ("status-worsened-lead",), "comune-spezia": ("status-partners",)}
    planned = plan(reached, [ROSSI, twin])
    assert len(planned.deliveries) == 1
    assert planned.deliveries[0].rules == ("status-partners", "status-worsened-lead")


def test_preferences_choose_kinds_channels_and_cadence() -> None:
    no_status = Recipient("rossi", "regione-liguria", "Maria", ROSSI.email, "it", event_kinds=("line_revoked",))
    webhook_only = Recipient("smith", "regione-liguria", "John", SMITH.email, "en", channels=("webhook",))
    daily = Recipient(
        "verdi", "regione-liguria", "Luca Verdi", "luca.verdi@regione.liguria.it", "en", cadence="daily_digest"
    )
    planned = plan(LEAD, [no_status, webhook_only, daily])
    assert planned.deliveries == []
    [entry] = planned.digest
    assert (entry.email, entry.language, entry.due_at, entry.rules) == (
        "luca.verdi@regione.liguria.it",
        "en",
        DUE,
        ("status-worsened-lead",),
    )
    assert "Miglio Blu" in entry.section_text and "Miglio Blu" in entry.section_html


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


def test_re_planning_yields_the_same_ids_and_nobody_reached_plans_nothing() -> None:
    first, again = plan(LEAD, [ROSSI]), plan(LEAD, [ROSSI])
    assert [d.delivery_id for d in first.deliveries] == [d.delivery_id for d in again.deliveries]
    empty = plan({}, [ROSSI, SMITH], [WebhookTarget("hook-a", "regione-liguria", None, "https://a.example/h")])
    assert empty.deliveries == [] and empty.digest == []


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

    [entry] = plan(LEAD, [person]).digest  # status_changed: its daily digest
    assert entry.contact_id == "smith"
    told_at_once = replace(person, kinds=(("status_changed", "immediate"),))
    [mail] = plan(LEAD, [told_at_once]).deliveries
    assert mail.recipient == SMITH.email
    off = replace(person, kinds=(("status_changed", "off"),))
    hook = WebhookTarget("hook-b", "regione-liguria", "smith", "https://b.example/h")
    planned = plan(LEAD, [off], [hook])
    assert planned.digest == [] and [d.channel for d in planned.deliveries] == ["webhook"]


def test_an_e_mail_links_its_readers_preferences_page_in_its_footer() -> None:
    url = "https://regia.example.org/preferences/1.abc.def"
    [mail] = plan(LEAD, [replace(ROSSI, preferences_url=url)]).deliveries
    text, html = mail.body, mail.body_html or ""
    footer = text.split("\n-- \n", 1)[1]
    assert f"Quali avvisi ricevere e quando, o smettere di riceverli: {url}" in footer
    assert f'<a href="{url}">Quali avvisi ricevere e quando, o smettere di riceverli</a>' in html
    [plain] = plan(LEAD, [ROSSI]).deliveries
    assert "/preferences/" not in plain.body and "/preferences/" not in (plain.body_html or "")
