"""The story an alert about an objective-year tells: what is missing to the at-risk
threshold and to 100 %, who committed what, the objective's place in its plan and its
console page, in both languages, in plain text, HTML and the webhook JSON. Pure."""

import dataclasses
import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from regia_notifier.config import NotifierSettings
from regia_notifier.domain.console_links import objective_page
from regia_notifier.domain.coverage_gap import Gap, gap, threshold_cents
from regia_notifier.domain.messages import render_alert
from regia_notifier.domain.occurrences import (
    CurrentState,
    FundingDrop,
    PlanNode,
    StatusChange,
    YearState,
)
from regia_notifier.domain.planning import Cause, webhook_body
from regia_shared.contracts.catalogue import CONSOLE
from regia_shared.contracts.events.objectives import CoverageStatus as S

EVENT = "0b6f4a52-3f43-4c39-9d8e-3c8a5c1f0a01"
PATH = (
    PlanNode("liguria-2030", "Liguria 2030", "VISION"),
    PlanNode("mare", "Il mare <di> tutti", "PROGRAMME"),
    PlanNode("miglio-blu", "Miglio Blu", "OBJECTIVE"),
)
LINK = "http://127.0.0.1:8100/objectives/miglio-blu"

# The quick start's cut: need €5,000,000, €3,000,000 committed by Regione Liguria, 80 %.
STATUS = StatusChange(
    objective_id="miglio-blu",
    title="Miglio Blu",
    fiscal_year=2027,
    previous_status=S.PARTIALLY_FUNDED,
    status=S.AT_RISK,
    coverage_bp=6000,
    need_cents=5_000_000_00,
    committed_cents=3_000_000_00,
    at_risk_threshold_pct=80,
    committed_by_level={"REGIONE": 2_500_000_00, "STATO": 500_000_00, "UE": 0},
    path=PATH,
    console_url=LINK,
)


# -- the gap ---------------------------------------------------------------------------


def test_the_gap_is_what_is_missing_to_the_threshold_and_to_the_whole_need() -> None:
    assert gap(5_000_000_00, 3_000_000_00, 80) == Gap(1_000_000_00, 2_000_000_00, 80)


def test_the_thresholds_share_is_rounded_up_so_a_gap_is_never_understated() -> None:
    # 80 % of 5 cents is 4 cents; 80 % of 7 cents is 5.6 cents, so 6 are needed.
    assert threshold_cents(5, 80) == 4
    assert threshold_cents(7, 80) == 6
    assert gap(7, 5, 80) == Gap(1, 2, 80)
    # 33 % of €1,000,000.01 is €330,000.0033: the cent above.
    assert threshold_cents(1_000_000_01, 33) == 330_000_01
    # Exact at any size: no float in the way.
    assert threshold_cents(10**17 + 1, 99) == (10**17 + 1) * 99 // 100 + 1


def test_above_the_threshold_or_fully_funded_the_gap_is_zero_never_negative() -> None:
    assert gap(5_000_000_00, 4_500_000_00, 80) == Gap(0, 500_000_00, 80)
    assert gap(5_000_000_00, 4_000_000_00, 80) == Gap(0, 1_000_000_00, 80)
    assert gap(5_000_000_00, 6_000_000_00, 80) == Gap(0, 0, 80)


def test_a_year_with_no_need_has_no_gap_at_all() -> None:
    assert gap(0, 0, 80) is None
    assert gap(0, 1_000_00, 80) is None  # money on a year with no need: over-commitment, not a gap
    no_need = dataclasses.replace(STATUS, status=S.NO_NEED, need_cents=0, committed_cents=0, coverage_bp=0)
    assert no_need.gap is None
    for language in ("it", "en"):
        text = render_alert(no_need, language=language, name="Maria", event_id=EVENT).text
        assert "Mancano" not in text and "Missing" not in text


# -- the messages ----------------------------------------------------------------------


def test_a_status_change_tells_the_gap_the_levels_the_path_and_the_link_in_italian() -> None:
    m = render_alert(STATUS, language="it", name="Maria", event_id=EVENT)
    assert "Mancano:" in m.text
    assert "€ 1.000.000,00 per la soglia (80 %), € 2.000.000,00 per il 100 %" in m.text
    assert re.search(r"^Impegnato per livello: +Regione € 2\.500\.000,00; Stato € 500\.000,00$", m.text, re.M)
    assert "Nel piano:" in m.text and "Liguria 2030 › Il mare <di> tutti › Miglio Blu" in m.text
    assert re.search(rf"^Nella console: +{re.escape(LINK)}$", m.text, re.M)
    assert "UE" not in m.text and "Unione europea" not in m.text  # nothing committed: not listed
    assert f'<a href="{LINK}">{LINK}</a>' in m.html
    assert "Il mare &lt;di&gt; tutti" in m.html and "<di>" not in m.html
    assert "€ 1.000.000,00 per la soglia (80 %)" in m.section_text and LINK in m.section_html


def test_a_status_change_tells_the_same_in_english() -> None:
    m = render_alert(STATUS, language="en", name="John", event_id=EVENT)
    assert "Missing:" in m.text and "€1,000,000.00 to 80%, €2,000,000.00 to 100%" in m.text
    assert re.search(r"^Committed by level: +Region €2,500,000\.00; State €500,000\.00$", m.text, re.M)
    assert "In the plan:" in m.text and "Liguria 2030 › Il mare <di> tutti › Miglio Blu" in m.text
    assert re.search(rf"^In the console: +{re.escape(LINK)}$", m.text, re.M)
    assert f'<a href="{LINK}">{LINK}</a>' in m.html
    # What was there stays: the statuses in words, the threshold.
    assert "partially funded → at risk" in m.text and "At-risk threshold:" in m.text


def test_a_funding_drop_tells_the_gap_from_the_objectives_threshold() -> None:
    drop = FundingDrop(
        objective_id="miglio-blu",
        title="Miglio Blu",
        fiscal_year=2027,
        before_cents=4_500_000_00,
        after_cents=3_000_000_00,
        need_cents=5_000_000_00,
        coverage_bp=6000,
        status=S.AT_RISK,
        at_risk_threshold_pct=80,
        committed_by_level={"REGIONE": 3_000_000_00},
        path=PATH,
        console_url=LINK,
    )
    en = render_alert(drop, language="en", name="John", event_id=EVENT).text
    it = render_alert(drop, language="it", name="Maria", event_id=EVENT).text
    assert "€1,000,000.00 to 80%, €2,000,000.00 to 100%" in en and "Region €3,000,000.00" in en
    assert "€ 1.000.000,00 per la soglia (80 %), € 2.000.000,00 per il 100 %" in it and "Regione" in it
    assert LINK in en and LINK in it
    # Threshold not known (objective not defined yet): no gap, the rest still told.
    unknown = dataclasses.replace(drop, at_risk_threshold_pct=None)
    assert "Missing" not in render_alert(unknown, language="en", name="John", event_id=EVENT).text


def test_what_is_not_known_is_left_out() -> None:
    bare = dataclasses.replace(STATUS, committed_by_level=None, path=(PATH[-1],), console_url=None)
    for language in ("it", "en"):
        m = render_alert(bare, language=language, name="Maria", event_id=EVENT)
        assert "›" not in m.text and "console" not in m.text and "<a " not in m.html
        assert "livello" not in m.text and "level" not in m.text


def test_the_current_state_tells_each_years_gap_and_levels_and_the_link() -> None:
    state = CurrentState(
        "miglio-blu",
        "Miglio Blu",
        (
            YearState(2026, S.AT_RISK, 6000, 5_000_000_00, 3_000_000_00, {"REGIONE": 3_000_000_00}),
            YearState(2027, S.NO_NEED, 0, 0, 0),
        ),
        at_risk_threshold_pct=80,
        path=PATH,
        console_url=LINK,
    )
    en = render_alert(state, language="en", name="John", event_id=EVENT)
    it = render_alert(state, language="it", name="Maria", event_id=EVENT)
    assert "missing €1,000,000.00 to 80%, €2,000,000.00 to 100%; by level: Region €3,000,000.00" in en.text
    assert "mancano € 1.000.000,00 per la soglia (80 %), € 2.000.000,00 per il 100 %" in it.text
    assert "per livello: Regione € 3.000.000,00" in it.text
    # The story is a block of its own: the years stay aligned as they always were.
    assert "Year 2026: at risk, coverage" in en.text and "Anno 2026: A RISCHIO, copertura" in it.text
    assert "\n\nIn the plan:" in en.text and "\n\nNel piano:" in it.text
    year_2027 = next(line for line in en.text.splitlines() if line.startswith("Year 2027"))
    assert "missing" not in year_2027
    assert "Liguria 2030 › Il mare <di> tutti › Miglio Blu" in en.text and f'<a href="{LINK}">' in it.html


def test_the_link_encodes_the_id_as_one_path_segment_and_is_escaped_in_html() -> None:
    assert objective_page("http://127.0.0.1:8100", "miglio-blu") == LINK
    assert objective_page("https://regia.example.org/", "a/b?c#d e") == (
        "https://regia.example.org/objectives/a%2Fb%3Fc%23d%20e"
    )
    assert objective_page("http://c", "..") == "http://c/objectives/%2E%2E"
    hostile = 'x"><script>alert(1)</script>'
    url = objective_page("http://c", hostile)
    m = render_alert(dataclasses.replace(STATUS, console_url=url), language="en", name="J", event_id=EVENT)
    assert "<script>" not in m.html and f'href="{url}"' in m.html


# -- the webhook -----------------------------------------------------------------------


CAUSE = Cause(uuid.UUID(EVENT), "objectives.status_changed.v2", "c-1", datetime(2027, 3, 1, tzinfo=UTC))


def test_the_webhook_carries_the_same_facts_beside_the_old_ones() -> None:
    body = json.loads(webhook_body(STATUS, CAUSE, ("status-worsened-lead",)))
    facts = body["objective"]
    # Every field that was there before, unchanged.
    assert facts["objective_id"] == "miglio-blu" and facts["status"] == "AT_RISK"
    assert facts["previous_status"] == "PARTIALLY_FUNDED" and facts["committed_cents"] == 3_000_000_00
    assert facts["at_risk_threshold_pct"] == 80 and body["alert"] == "status_changed"
    # The story.
    assert facts["gap_to_threshold_cents"] == 1_000_000_00 and facts["gap_to_full_cents"] == 2_000_000_00
    assert facts["committed_by_level"] == {"REGIONE": 2_500_000_00, "STATO": 500_000_00, "UE": 0}
    assert [n["title"] for n in facts["path"]] == ["Liguria 2030", "Il mare <di> tutti", "Miglio Blu"]
    assert facts["path"][0] == {"objective_id": "liguria-2030", "title": "Liguria 2030", "kind": "VISION"}
    assert facts["console_url"] == LINK


@pytest.mark.parametrize("need", [0, 5])
def test_the_webhook_gap_is_null_without_a_need_and_per_year_in_the_current_state(need: int) -> None:
    state = CurrentState(
        "miglio-blu", "Miglio Blu", (YearState(2026, S.UNFUNDED, 0, need, 0),), at_risk_threshold_pct=80
    )
    (year,) = json.loads(webhook_body(state, CAUSE, ()))["objective"]["years"]
    assert year["fiscal_year"] == 2026 and year["committed_by_level"] is None
    assert (year["gap_to_threshold_cents"], year["gap_to_full_cents"]) == ((None, None) if need == 0 else (4, 5))


# -- the setting -----------------------------------------------------------------------


def test_the_console_url_is_an_http_address_defaulting_to_the_local_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGIA_CONSOLE_URL", raising=False)
    assert NotifierSettings().console_url == CONSOLE.default_url == "http://127.0.0.1:8100"
    monkeypatch.setenv("REGIA_CONSOLE_URL", " https://regia.example.org/ ")
    assert NotifierSettings().console_url == "https://regia.example.org"
    for bad in ("ftp://regia.example.org", "regia.example.org", "javascript:alert(1)", "https://x.example/?a=1"):
        monkeypatch.setenv("REGIA_CONSOLE_URL", bad)
        with pytest.raises(ValidationError, match="REGIA_CONSOLE_URL"):
            NotifierSettings()
