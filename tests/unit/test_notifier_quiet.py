"""What is no alert at all (a year's first status, a year before the budget window), and
the one message a lead assigned later gets: the objective's years not funded. Pure."""

import json
import uuid
from datetime import UTC, date, datetime

import pytest

from regia_funding.config import FundingSettings
from regia_notifier.config import NotifierSettings
from regia_notifier.domain.delivery import Recipient, WebhookTarget
from regia_notifier.domain.messages import render_alert
from regia_notifier.domain.occurrences import (
    FundingDrop,
    LineRevoked,
    ReviewClosed,
    StatusChange,
    YearState,
    current_state,
    first_alerting_year,
    silenced,
)
from regia_notifier.domain.planning import Cause, DigestTimes, plan_alerts
from regia_shared.contracts.events.objectives import CoverageStatus as S


def change(year: int, previous: S | None, now: S = S.AT_RISK) -> StatusChange:
    return StatusChange("o", "O", year, previous, now, 4550, 100, 45, 80)


def drop(year: int) -> FundingDrop:
    return FundingDrop("o", "O", year, 1000, 500, 1000, 5000, S.AT_RISK)


def test_the_window_starts_at_the_setting_moved_past_every_closed_year() -> None:
    assert first_alerting_year(2025, None) == 2025
    assert first_alerting_year(2025, 2025) == 2026
    assert first_alerting_year(2025, 2027) == 2028
    assert first_alerting_year(2025, 2020) == 2025  # a year closed before the setting moves nothing back


@pytest.mark.parametrize("status", list(S))
def test_a_first_status_is_never_an_alert(status: S) -> None:
    assert silenced(change(2027, None, status), 2025) == "the year's first status"


def test_years_before_the_window_never_alert_but_the_window_and_other_kinds_do() -> None:
    assert silenced(change(2024, S.FUNDED), 2025) == "a year before the budget window"
    assert silenced(drop(2024), 2025) == "a year before the budget window"
    assert silenced(change(2025, S.FUNDED), 2025) is None
    assert silenced(drop(2026), 2025) is None
    assert silenced(LineRevoked("l", "o", None, "i", None, 2020, 1, None), 2025) is None
    assert silenced(ReviewClosed("p", None, 2024, 0, 0, 0, 0, {}, ("p",)), 2025) is None


YEARS = [
    YearState(2024, S.UNFUNDED, 0, 100, 0),  # before the window
    YearState(2026, S.AT_RISK, 4550, 5_000_000_00, 2_275_000_00),
    YearState(2025, S.FUNDED, 10_000, 100, 100),
    YearState(2027, S.UNFUNDED, 0, 3_000_000_00, 0),
]


def test_a_new_lead_is_told_the_years_of_the_window_not_funded_in_order() -> None:
    state = current_state("miglio-blu", "Miglio Blu", YEARS, 2025)
    assert state is not None and [y.fiscal_year for y in state.years] == [2026, 2027]
    assert current_state("miglio-blu", "Miglio Blu", [YEARS[2]], 2025) is None  # all funded
    assert current_state("miglio-blu", "Miglio Blu", [YEARS[0]], 2025) is None  # all before the window
    assert current_state("miglio-blu", "Miglio Blu", [], 2025) is None


def test_the_current_state_reads_as_one_message_listing_each_year() -> None:
    state = current_state("miglio-blu", "Miglio Blu", YEARS, 2025)
    assert state is not None
    it = render_alert(state, language="it", name="Maria Rossi", event_id="e-1")
    en = render_alert(state, language="en", name="John Smith", event_id="e-1")
    assert it.subject == "[Regia] Miglio Blu: stato attuale degli anni non finanziati"
    assert "Anno 2026: A RISCHIO, copertura 45,50 % (impegnato € 2.275.000,00 su € 5.000.000,00)" in it.text
    assert "Anno 2027: NON FINANZIATO" in it.text and "2025" not in it.text and "2024" not in it.text
    assert en.subject == "[Regia] Miglio Blu: current state of its unfunded years"
    assert "Year 2027: not funded" in en.text and "obiettivo miglio-blu" in it.text  # words, not the enum


DUE = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


def test_the_current_state_follows_status_preferences_with_ids_from_the_assignment() -> None:
    state = current_state("miglio-blu", "Miglio Blu", YEARS, 2025)
    assert state is not None
    assignment = Cause(uuid.uuid4(), "ObjectiveLeadAssigned", "corr", datetime(2026, 12, 1, tzinfo=UTC))
    rossi = Recipient("rossi", "liguria", "Maria Rossi", "maria@x.it", "it")
    drops_only = Recipient("smith", "liguria", "John Smith", "john@x.it", "en", event_kinds=("funding_dropped",))
    digest = Recipient("verdi", "liguria", "Luca Verdi", "luca@x.it", "it", cadence="daily_digest")
    hook = WebhookTarget("hook-1", "liguria", None, "https://example.org/hook")
    plan = plan_alerts(
        state, {"liguria": ()}, [rossi, drops_only, digest], [hook], assignment, digests=DigestTimes(DUE, DUE)
    )
    [webhook] = plan.deliveries
    email, digest_entry = plan.queued
    assert (email.cause_event_id, email.email, email.cadence) == (assignment.event_id, "maria@x.it", "immediate")
    assert email.trigger == webhook.trigger == "current_state" and email.objective_id == "miglio-blu"
    assert (digest_entry.email, digest_entry.cadence, digest_entry.due_at) == ("luca@x.it", "daily_digest", DUE)
    assert digest_entry.trigger == "current_state"
    body = json.loads(webhook.body)
    assert body["alert"] == "current_state" and body["type"] == "ObjectiveLeadAssigned"
    assert [(y["fiscal_year"], y["status"]) for y in body["objective"]["years"]] == [
        (2026, "AT_RISK"),
        (2027, "UNFUNDED"),
    ]


def test_funding_and_notifier_read_the_same_first_year_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", raising=False)
    assert FundingSettings().window_first_year == NotifierSettings().window_first_year == date.today().year - 1
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", "2027")
    assert FundingSettings().window_first_year == NotifierSettings().window_first_year == 2027
