"""The three alerts added for leads (money from one level only, a milestone overdue, an
indicator behind its target path): when they are no alert at all, which rules match them,
what they say in Italian and English (what happened, why it matters, what would fix it,
where to look), and the webhook body each sends. Pure."""

import dataclasses
import json
import re
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import jsonschema
import pytest

from regia_notifier.domain.delivery import Recipient, WebhookTarget
from regia_notifier.domain.messages import render_alert, trigger_label
from regia_notifier.domain.messages.alerts import _rounded_like
from regia_notifier.domain.messages.wording import decimal_label, ratio_percent
from regia_notifier.domain.occurrences import (
    IndicatorBehind,
    MilestoneOverdue,
    Occurrence,
    PlanNode,
    SingleLevelDependency,
    Trigger,
    silenced,
)
from regia_notifier.domain.planning import Cause, DigestTimes, plan_alerts
from regia_notifier.domain.rules import Audience, Rule, RuleSpec, matching
from regia_notifier.entrypoints import payload_schema
from regia_shared.contracts.events.objectives import CoverageStatus as S
from regia_shared.contracts.words import TRIGGER_WORDS

PATH = (PlanNode("liguria-2030", "Liguria 2030", "VISION"), PlanNode("miglio-blu", "Miglio Blu", "OBJECTIVE"))
LINK = "https://regia.example.org/objectives/miglio-blu"
HOSTILE = "Miglio <b>Blu</b>\r\nBcc: victim@example.org"

ONE_LEVEL = SingleLevelDependency(
    "miglio-blu",
    "Miglio Blu",
    2027,
    "REGIONE",
    3_000_000_00,
    {"REGIONE": 3_000_000_00, "STATO": 500_000_00},
    5_000_000_00,
    6000,
    S.AT_RISK,
    80,
    PATH,
    LINK,
)
OVERDUE = MilestoneOverdue(
    "miglio-blu", "Miglio Blu", "bando", "Bando per i cantieri", 2027, date(2027, 3, 15), date(2027, 3, 16), PATH, LINK
)
BEHIND = IndicatorBehind(
    "miglio-blu",
    "Miglio Blu",
    "posti",
    "Posti di lavoro",
    "posti",
    "INCREASING",
    2026,
    date(2026, 7, 2),
    "1150",
    "1150.136986",
    "1200",
    "1000",
    2024,
    "0.750000",
    "0.750685",
    date(2026, 3, 1),
    "1120",
    PATH,
    LINK,
)
NEW: list[Occurrence] = [ONE_LEVEL, OVERDUE, BEHIND]


def test_a_year_before_the_budget_window_is_no_alert_for_money_or_indicators_but_a_milestone_is() -> None:
    assert silenced(dataclasses.replace(ONE_LEVEL, fiscal_year=2024), 2025) == "a year before the budget window"
    assert silenced(dataclasses.replace(BEHIND, fiscal_year=2024), 2025) == "a year before the budget window"
    assert silenced(ONE_LEVEL, 2027) is None and silenced(BEHIND, 2026) is None
    # A milestone is announced the day after its due date, whatever year that was.
    assert silenced(dataclasses.replace(OVERDUE, fiscal_year=2024), 2025) is None


@pytest.mark.parametrize("occurrence", NEW, ids=lambda o: o.trigger.value)
def test_a_rule_for_the_kind_matches_it_and_no_other_rule_does(occurrence: Occurrence) -> None:
    own = Rule(rule_id="own", trigger=occurrence.trigger, audience=[Audience.LEAD])
    others = [Rule(rule_id=t.value, trigger=t, audience=[Audience.LEAD]) for t in Trigger if t != occurrence.trigger]
    assert matching([own, *others], occurrence) == [own]
    assert matching([own.model_copy(update={"enabled": False})], occurrence) == []
    assert occurrence.objective_ids == ("miglio-blu",)


def test_their_rules_take_no_condition_of_another_kind() -> None:
    for trigger in (Trigger.SINGLE_LEVEL_DEPENDENCY, Trigger.MILESTONE_OVERDUE, Trigger.INDICATOR_BEHIND):
        assert RuleSpec(trigger=trigger, audience=[Audience.LEAD, Audience.FUNDER]).condition == {}
        for wrong in ({"direction": "worsened"}, {"min_drop_pct": 10}, {"audience": ["LINE_INSTITUTION"]}):
            with pytest.raises(ValueError):
                RuleSpec.model_validate({"trigger": trigger.value, "audience": ["LEAD"], **wrong})


def text(occurrence: Occurrence, language: str) -> str:
    return render_alert(occurrence, language=language, name="Maria Rossi", event_id="e-1").text  # type: ignore[arg-type]


def fact(body: str, label: str) -> str:
    found = re.search(rf"^{re.escape(label)}: +(.*)$", body, re.MULTILINE)
    assert found, f"no {label!r} in\n{body}"
    return found.group(1)


def test_one_level_says_which_level_how_much_who_was_there_before_and_what_would_fix_it() -> None:
    it, en = text(ONE_LEVEL, "it"), text(ONE_LEVEL, "en")
    assert render_alert(ONE_LEVEL, language="it", name="M", event_id="e").subject == (
        "[Regia] Miglio Blu 2027: finanziato da un solo livello (Regione)"
    )
    assert "viene ora da un solo livello di governo, Regione, mentre prima veniva da 2 livelli" in it
    assert "un taglio o una revoca a quel livello ricadrebbe per intero sull'obiettivo" in it
    assert fact(it, "Unico livello") == "Regione € 3.000.000,00"
    assert fact(it, "Prima, per livello") == "Regione € 3.000.000,00; Stato € 500.000,00"
    assert fact(it, "Mancano") == "€ 1.000.000,00 per la soglia (80 %), € 2.000.000,00 per il 100 %"
    assert "altro livello di governo" in fact(it, "Per rimediare")
    assert fact(en, "Sole level") == "Region €3,000,000.00"
    assert fact(en, "Before, by level") == "Region €3,000,000.00; State €500,000.00"
    assert "another level of government" in fact(en, "What would fix it")
    for body, plan, console in ((it, "Nel piano", "Nella console"), (en, "In the plan", "In the console")):
        assert fact(body, plan) == "Liguria 2030 › Miglio Blu" and fact(body, console) == LINK


def test_an_overdue_milestone_says_what_was_due_when_and_what_would_fix_it() -> None:
    it, en = text(OVERDUE, "it"), text(dataclasses.replace(OVERDUE, noticed_on=date(2027, 3, 25)), "en")
    assert render_alert(OVERDUE, language="en", name="M", event_id="e").subject == (
        "[Regia] Miglio Blu: milestone overdue – Bando per i cantieri"
    )
    assert (fact(it, "Traguardo"), fact(it, "Previsto per"), fact(it, "Scaduto da")) == (
        "Bando per i cantieri",
        "15/03/2027",
        "1 giorno",
    )
    assert (fact(en, "Due on"), fact(en, "Overdue for")) == ("2027-03-15", "10 days")
    assert "registrare con la sua data" in fact(it, "Per rimediare")
    assert "new due date" in fact(en, "What would fix it")
    assert "traguardo bando" in it and "milestone bando" in en
    # The objective not known yet: its id stands in for its title.
    assert (
        "[Regia] miglio-blu: traguardo scaduto"
        in render_alert(
            dataclasses.replace(OVERDUE, objective_title=None), language="it", name="M", event_id="e"
        ).subject
    )


def test_an_indicator_behind_says_where_it_is_where_the_path_expected_it_and_the_target() -> None:
    it, en = text(BEHIND, "it"), text(BEHIND, "en")
    assert render_alert(BEHIND, language="it", name="M", event_id="e").subject == (
        "[Regia] Miglio Blu: Posti di lavoro in ritardo sul percorso verso il target 2026"
    )
    assert fact(it, "Misurato") == "1.150 posti (02/07/2026)"
    assert fact(it, "Atteso sul percorso") == "1.150,14 posti"
    assert fact(it, "Target") == "1.200 posti entro il 31/12/2026"
    assert fact(it, "Valore di partenza") == "1.000 posti (2024)"
    assert fact(it, "Avanzamento") == "75,00 % del percorso, 75,06 % atteso"
    assert fact(it, "Misura precedente") == "1.120 posti (01/03/2026)"
    assert "mentre la misura precedente non lo era" in it
    assert (
        fact(en, "Expected on the path") == "1,150.14 posti"
        and fact(en, "Progress") == "75.00% of the way, 75.06% expected"
    )
    assert "back onto its path" in fact(en, "What would fix it")
    first = text(dataclasses.replace(BEHIND, previous_measured_on=None, previous_value=None), "en")
    assert "(it is its first measurement)" in first and fact(first, "Previous measurement") == "none"


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("occurrence", NEW, ids=lambda o: o.trigger.value)
def test_no_code_shows_and_hostile_text_stays_on_one_line_and_escaped(occurrence: Occurrence, language: str) -> None:
    hostile = dataclasses.replace(occurrence, **{"title" if hasattr(occurrence, "title") else "name": HOSTILE})
    for o in (occurrence, hostile):
        r = render_alert(o, language=language, name="Maria", event_id="e-1")  # type: ignore[arg-type]
        for part in (r.subject, r.text, r.html, r.section_text):
            assert not re.search(r"\b(REGIONE|STATO|AT_RISK|INCREASING|[a-z]+_[a-z_]+)\b", part), part
        assert "\n" not in r.subject and not re.search(r"^Bcc:", r.text, re.MULTILINE)
        assert "<b>" not in r.html


def test_each_kind_has_words_in_both_languages() -> None:
    for trigger in (Trigger.SINGLE_LEVEL_DEPENDENCY, Trigger.MILESTONE_OVERDUE, Trigger.INDICATOR_BEHIND):
        assert trigger_label(trigger, "it") == TRIGGER_WORDS["it"][trigger.value]
        assert trigger_label(trigger, "en") == TRIGGER_WORDS["en"][trigger.value]
    assert trigger_label(Trigger.MILESTONE_OVERDUE, "it") == "traguardo scaduto"


def test_decimals_read_as_each_language_writes_them_every_digit_kept() -> None:
    assert (
        decimal_label("1234567.125", "it") == "1.234.567,125" and decimal_label("1234567.125", "en") == "1,234,567.125"
    )
    assert decimal_label("-0.25", "it") == "-0,25" and decimal_label("8", "en") == "8"
    assert decimal_label("1e5", "it") == "1e5"  # not a plain decimal: shown as sent
    assert ratio_percent("0.750685", "it") == "75,06 %" and ratio_percent("-0.375000", "en") == "-37.50%"
    assert _rounded_like("1150.136986", "1150", "1200") == "1150.14"
    assert _rounded_like("9.8766", "10.125", "8") == "9.877"
    assert _rounded_like("1120.000000", "1150") == "1120" and _rounded_like("-0.001", "1") == "0"


@pytest.mark.parametrize(
    ("occurrence", "key"), [(ONE_LEVEL, "objective"), (OVERDUE, "milestone"), (BEHIND, "indicator")]
)
def test_the_webhook_carries_the_facts_under_the_kinds_key_and_follows_preferences(
    occurrence: Occurrence, key: str
) -> None:
    cause = Cause(uuid.uuid4(), "SomeEvent", "corr", datetime(2027, 3, 16, 8, tzinfo=UTC))
    maria = Recipient("rossi", "liguria", "Maria", "maria@example.org", "it")
    only_status = Recipient("smith", "liguria", "John", "john@example.org", "en", event_kinds=("status_changed",))
    plan = plan_alerts(
        occurrence,
        {"liguria": ("rule",)},
        [maria, only_status],
        [WebhookTarget("hook", "liguria", None, "https://x.example/h")],
        cause,
        digests=DigestTimes(cause.occurred_at, cause.occurred_at),
    )
    mails = plan.queued
    assert [q.email for q in mails] == ["maria@example.org"]  # John wants status changes only
    assert mails[0].trigger == occurrence.trigger.value
    (hook,) = [d for d in plan.deliveries if d.channel == "webhook"]
    body = json.loads(hook.body)
    assert body["alert"] == occurrence.trigger.value and body[key]["objective_id"] == "miglio-blu"
    assert body[key]["console_url"] == LINK and [n["objective_id"] for n in body[key]["path"]] == [
        "liguria-2030",
        "miglio-blu",
    ]
    if occurrence is ONE_LEVEL:
        assert (body[key]["gap_to_threshold_cents"], body[key]["gap_to_full_cents"]) == (1_000_000_00, 2_000_000_00)
        assert body[key]["level"] == "REGIONE" and body[key]["previous_committed_by_level"]["STATO"] == 500_000_00
    if occurrence is BEHIND:
        assert (body[key]["value"], body[key]["expected_value"], body[key]["target_value"]) == (
            "1150",
            "1150.136986",
            "1200",
        )
        assert body[key]["measured_on"] == "2026-07-02" and body[key]["previous_measured_on"] == "2026-03-01"
    if occurrence is OVERDUE:
        assert (body[key]["due_on"], body[key]["noticed_on"], body[key]["milestone_id"]) == (
            "2027-03-15",
            "2027-03-16",
            "bando",
        )


def test_the_api_guides_examples_of_the_three_payloads_conform_to_the_published_schema() -> None:
    api = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    section = api[api.index("**Webhook payloads**") : api.index("**Deliveries**")]
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, re.DOTALL)]
    validator = jsonschema.Draft202012Validator(
        payload_schema.checked_in(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for example in examples:
        validator.validate(example)
    assert [e["alert"] for e in examples] == [
        "status_changed",
        "single_level_dependency",
        "milestone_overdue",
        "indicator_behind",
    ]
