"""The console on a region's data (issue 18's done-when): 100,000 funding lines over 20,000
objectives and a plan of 3,000 nodes, with Il Miglio Blu carrying 8,800 of them and its
Regione Liguria line cut from €4.5M to €3M as the newest change of all.

`regia up` (no demo) starts the services, which migrate their schemas; the read set of the
benchmark (regia/bench/readset.py, `ReadSet.scaled(100_000)`) is then written straight into
their tables, coverage included, and the services read it as their own. A lead, a funder's
role, an indicator and a milestone are added through the APIs, as an administrator would.
Headless Chromium then opens each page issue 18 changed, asserts in the DOM what each shows
(not only that it loads), at a desktop's width and at 375 px, and checks the contrast of
every visible text. Screenshots land in tests/artifacts/console/ as r18-100k-*.png, and
the seeding and page times in r18-100k-timings.json."""

import asyncio
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from regia.bench.readset import ReadSet, SeedReport, seed

from ..support.regia_up import RUNNING, RegiaUp
from ..support.services import REASON_HEADERS
from .test_console_browser import (
    ARTIFACTS,
    CONTRAST,
    MIN_CONTRAST,
    PHONE,
    TOKEN,
    admin_password,
    browser_or_skip,
    fits,
    log_in,
    phone,
    phone_screenshot,
    screenshot,
    severe,
    too_wide,
    wait_until,
)

pytestmark = pytest.mark.e2e

LINES = 100_000
RS = ReadSet.scaled(LINES)
BIG = RS.big_objective  # rs-miglio-blu
CUT_LINE = RS.cut_line  # rs-LIG-2027-001
REGIONE = RS.institution(0)  # rs-regione-liguria
YEAR = 2027


@dataclass
class Seeded:
    up: RegiaUp
    report: SeedReport
    dsn: str
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def console(self) -> str:
        return self.up.url("console")

    def service(self, name: str) -> str:
        return self.up.url(name)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    browser_or_skip()
    up = RegiaUp(tmp_path_factory.mktemp("console-100k") / "data", admin_token=TOKEN)
    try:
        started = time.perf_counter()
        up.wait_for(RUNNING)
        dsn = f"postgresql://postgres@127.0.0.1:{up.pg_port}/regia"
        data = Seeded(up, SeedReport(), dsn, {"regia_up_s": round(time.perf_counter() - started, 1)})
        # After the services started: they migrated their schemas, which the seeder fills.
        started = time.perf_counter()
        data.report = asyncio.run(seed(dsn, RS))
        data.timings["seed_s"] = round(time.perf_counter() - started, 1)
        assert data.report.lines == LINES and data.report.coverage_rows > 20_000, data.report
        through_the_apis(data)
        yield data
    finally:
        up.stop_everything()
        if "data" in locals():
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "r18-100k-timings.json").write_text(json.dumps(data.timings, indent=2) + "\n")


def through_the_apis(data: Seeded) -> None:
    """What an administrator adds by hand: the lead and a funder's role (partners), an
    indicator and a milestone (objectives) on the big objective."""
    admin = {"Authorization": f"Bearer {TOKEN}", **REASON_HEADERS}
    with httpx.Client(headers=admin, timeout=30) as http:
        partners, objectives = data.service("partners"), data.service("objectives")
        answer = http.put(f"{partners}/v1/objectives/{BIG}/lead", json={"partner_id": RS.lead(0)})
        assert answer.status_code == 200, answer.text
        answer = http.put(f"{partners}/v1/objectives/{BIG}/roles/{REGIONE}", json={"role": "FUNDER"})
        assert answer.status_code in (200, 201), answer.text
        answer = http.post(
            f"{objectives}/v1/objectives/{BIG}/indicators",
            json={
                "indicator_id": f"{BIG}-imprese",
                "name": "Imprese della nautica insediate",
                "unit": "imprese",
                "direction": "INCREASING",
                "baseline": {"value": "120", "year": 2025},
                "targets": [{"fiscal_year": 2026, "value": "150"}, {"fiscal_year": YEAR, "value": "180"}],
            },
        )
        assert answer.status_code == 201, answer.text
        answer = http.post(
            f"{objectives}/v1/objectives/{BIG}/milestones",
            json={"milestone_id": f"{BIG}-gara", "title": "Gara per le banchine aggiudicata", "due_on": "2027-06-30"},
        )
        assert answer.status_code == 201, answer.text


@pytest.fixture(scope="module")
def browser(seeded: Seeded):  # type: ignore[no-untyped-def]
    from .test_console_browser import headless_chromium

    driver = headless_chromium()
    try:
        try:
            log_in(driver, seeded.console, admin_password(seeded.up.output))
        except AssertionError:
            (ARTIFACTS / "r18-100k-login-failed.html").write_text(driver.page_source)
            screenshot(driver, "r18-100k-login-failed")
            raise
        yield driver
    finally:
        driver.quit()


def visit(data: Seeded, driver, path: str, name: str | None = None) -> float:  # type: ignore[no-untyped-def]
    """Open a page and return how long it took (the server's answer and the browser's load)."""
    started = time.perf_counter()
    driver.get(f"{data.console}{path}")
    took = time.perf_counter() - started
    if name:
        data.timings[f"page_{name}_s"] = round(took, 3)
    return took


def both_widths(data: Seeded, driver, path: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page as it is now at a desktop's width, then at 375 px, where it must not scroll
    sideways; a screenshot of each, and no error in the browser's console."""
    screenshot(driver, f"r18-100k-{name}-desktop")
    try:
        phone(driver, True)
        driver.get(f"{data.console}{path}")
        assert fits(driver), f"{path} scrolls sideways at {PHONE} px: {too_wide(driver)}"
        phone_screenshot(driver, f"r18-100k-{name}-phone")
    finally:
        phone(driver, False)
    assert not severe(driver), f"browser errors on {path}"


def cents(text: str) -> int:
    """An English euro amount as the page writes it (€4,500,000.00, −€1.00) in cents."""
    digits = re.sub(r"[^\d]", "", text)
    return int(digits) * (-1 if text.strip().startswith(("-", "−")) else 1)


async def statuses_in(dsn: str, year: int) -> dict[str, int]:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "objectives"})
    try:
        rows = await conn.fetch(
            "SELECT status, count(*) AS n FROM coverage WHERE fiscal_year = $1 GROUP BY status", year
        )
    finally:
        await conn.close()
    return {r["status"]: r["n"] for r in rows}


def has_summary(data: Seeded) -> bool:
    answer = httpx.get(
        f"{data.service('objectives')}/v1/summary",
        headers={"Authorization": f"Bearer {TOKEN}", **REASON_HEADERS},
        timeout=30,
    )
    assert answer.status_code in (200, 404), answer.text
    return answer.status_code == 200


def test_the_overview_at_risk_table_on_100k_lines(seeded: Seeded, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    severe(browser)
    path = f"/?year={YEAR}&lang=en"
    visit(seeded, browser, path, "overview")
    # Counts for the year: the service's summary when it has one; otherwise the page says
    # so and counts one page of the filtered list per status.
    expected = asyncio.run(statuses_in(seeded.dsn, YEAR))
    counts = {
        e.get_attribute("data-status"): e.find_element(By.TAG_NAME, "strong").text
        for e in browser.find_elements(By.CSS_SELECTOR, "#counts a[data-status]")
    }
    if has_summary(seeded):
        assert not browser.find_elements(By.ID, "no-summary")
        assert counts["AT_RISK"] == str(expected["AT_RISK"]), (counts, expected)
    else:
        assert "GET /v1/summary" in browser.find_element(By.ID, "no-summary").text
        assert counts["AT_RISK"] == "100+" and expected["AT_RISK"] > 100, (counts, expected)
    assert "€" in browser.find_element(By.CSS_SELECTOR, "#year-money [data-figure=committed]").text

    rows = browser.find_elements(By.CSS_SELECTOR, "#at-risk tbody tr")
    assert len(rows) == 20, "the table shows one page of the at-risk objectives"
    # The service's gap order, largest first: the table is its first page, not a walk.
    first_page = httpx.get(
        f"{seeded.service('objectives')}/v1/objectives",
        params={"status": "AT_RISK", "fiscal_year": YEAR, "sort": "gap", "limit": 20},
        headers={"Authorization": f"Bearer {TOKEN}", **REASON_HEADERS},
        timeout=30,
    ).json()["items"]
    assert [r.get_attribute("data-objective") for r in rows] == [i["objective_id"] for i in first_page]
    gaps = [int(r.get_attribute("data-gap-cents")) for r in rows]
    assert gaps == sorted(gaps, reverse=True) and gaps[0] > 0, gaps
    for row in rows:
        cells = {c.get_attribute("data-label"): c.text for c in row.find_elements(By.CSS_SELECTOR, "td[data-label]")}
        for column in ("Need", "Committed", "Gap to threshold", "Gap to 100%"):
            assert cells[column].startswith("€"), (column, cells)
        since = row.find_element(By.CSS_SELECTOR, ".since").get_attribute("data-since")
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", since), since
        assert "·" in cells["Last cause"] and "€" in cells["Last cause"], cells
        levels = row.find_elements(By.CSS_SELECTOR, "td.levels [data-cents]")
        assert levels and sum(int(e.get_attribute("data-cents")) for e in levels) == cents(cells["Committed"]), cells
        assert row.find_element(By.CSS_SELECTOR, ".lead").text.startswith("Lead: "), row.text
        assert cells["Anyone told?"] == "Nobody told", cells  # nobody has contacts in this set
    big = browser.find_element(By.CSS_SELECTOR, f"#at-risk tr[data-objective='{BIG}']")
    cause = big.find_element(By.CSS_SELECTOR, "td.cause").text
    assert f"Regione Liguria · {CUT_LINE} · €4,500,000.00 → €3,000,000.00" in cause, cause
    assert "«Assestamento di bilancio»" in cause
    assert "Ufficio di piano 0" in big.text  # the lead, by name
    need, committed, to_threshold, to_full = (
        cents(big.find_element(By.CSS_SELECTOR, f"td[data-label='{c}']").text)
        for c in ("Need", "Committed", "Gap to threshold", "Gap to 100%")
    )
    assert to_full == need - committed and to_threshold == -(-need * 80 // 100) - committed, (need, committed)
    assert "60.00%" in big.text  # the read set puts it at 60 % of its need, as in the issue
    link = browser.find_element(By.ID, "all-at-risk").get_attribute("href")
    assert "status=AT_RISK" in link and f"fiscal_year={YEAR}" in link and "sort=gap" in link
    both_widths(seeded, browser, path, "overview")


def test_the_objectives_index_filtered_and_searched(seeded: Seeded, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    path = f"/objectives?status=AT_RISK&fiscal_year={YEAR}&sort=gap&lang=en"
    visit(seeded, browser, path, "objectives_at_risk")
    rows = browser.find_elements(By.CSS_SELECTOR, "#objectives tbody tr")
    assert len(rows) == 50 and all("at risk" in r.text.lower() for r in rows)
    first_page = [r.get_attribute("data-objective") for r in rows]
    both_widths(seeded, browser, path, "objectives-at-risk")
    browser.get(f"{seeded.console}{path}")
    browser.find_element(By.ID, "next-page").click()
    wait_until(lambda: "cursor=" in browser.current_url, "the next page of the index")
    second = [r.get_attribute("data-objective") for r in browser.find_elements(By.CSS_SELECTOR, "#objectives tbody tr")]
    assert second and not set(second) & set(first_page), "the next page repeats the first"

    # Searched, as a person types it into the overview's box.
    browser.get(f"{seeded.console}/?year={YEAR}&lang=en")
    box = browser.find_element(By.ID, "q")
    box.send_keys("miglio")
    box.submit()
    wait_until(lambda: "q=miglio" in browser.current_url, "the search's results")
    found = [r.get_attribute("data-objective") for r in browser.find_elements(By.CSS_SELECTOR, "#objectives tbody tr")]
    assert found == [BIG], found
    screenshot(browser, "r18-100k-objectives-searched-desktop")
    lead = f"/objectives?fiscal_year={YEAR}&lead={RS.lead(0)}&q=porto&lang=en"
    visit(seeded, browser, lead, "objectives_lead_search")
    rows = browser.find_elements(By.CSS_SELECTOR, "#objectives tbody tr")
    assert rows and all(RS.lead(0) in r.text and "Porto" in r.text for r in rows)
    both_widths(seeded, browser, lead, "objectives-lead-search")


def test_the_big_objectives_page_says_what_changed_and_pages_its_lines(seeded: Seeded, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    path = f"/objectives/{BIG}?lang=en"
    visit(seeded, browser, path, "objective")
    box = browser.find_element(By.ID, "what-changed")
    assert box.location["y"] < browser.find_element(By.ID, "years").location["y"], "the box is not on top"
    newest = box.find_element(By.CSS_SELECTOR, "ol.changes li").text
    assert f"Regione Liguria cut line {CUT_LINE} from €4,500,000.00 to €3,000,000.00 (−€1,500,000.00)" in newest, newest
    assert "«Assestamento di bilancio»" in newest and str(YEAR) in newest
    assert 1 < len(box.find_elements(By.CSS_SELECTOR, "ol.changes li")) <= 5

    # Subtotals by level, written out: they add up to the year's committed money.
    year_row = browser.find_element(By.CSS_SELECTOR, f"#years tr[data-year='{YEAR}']")
    committed = cents(year_row.find_element(By.CSS_SELECTOR, "td[data-label='Committed']").text.split("\n")[0])
    written = browser.find_element(By.CSS_SELECTOR, f"[data-subtotals='{YEAR}']").text
    assert "Region €" in written and "lines" in written, written
    parts = re.findall(r"€[\d,]+\.\d\d", written.split("; in all")[0])
    assert sum(cents(p) for p in parts) == committed, (parts, committed)
    assert f"in all €{committed // 100:,}.{committed % 100:02d}" in written, written
    by_level = browser.find_elements(By.CSS_SELECTOR, f".subtotal[data-year='{YEAR}'] table.by-level tbody tr")
    assert len(by_level) >= 5 and sum(cents(r.find_elements(By.TAG_NAME, "td")[1].text) for r in by_level) == committed

    # Roles, indicators and milestones, as added through the APIs; nothing labelled unavailable.
    assert "Lead: Ufficio di piano 0" in browser.find_element(By.ID, "roles").text
    assert "Funder: Regione Liguria" in browser.find_element(By.ID, "roles").text
    assert "Imprese della nautica insediate" in browser.find_element(By.ID, "indicators").text
    assert "Gara per le banchine aggiudicata" in browser.find_element(By.ID, "milestones").text
    assert "No annual review closed" in browser.find_element(By.ID, "reviews").text
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "did not answer" not in page and "unavailable" not in page.lower()

    # The lines: a page of 50 in line-id order, then the largest first, then the next page.
    rows = browser.find_elements(By.CSS_SELECTOR, "#lines-table tbody tr")
    assert len(rows) == 50
    assert len({r.get_attribute("data-line") for r in rows}) == 50
    screenshot(browser, "r18-100k-objective-desktop")
    browser.find_element(By.CSS_SELECTOR, "[data-sort-link='committed']").click()
    wait_until(lambda: "sort=-committed" in browser.current_url, "the lines sorted by committed money")
    amounts = [
        int(r.get_attribute("data-committed")) for r in browser.find_elements(By.CSS_SELECTOR, "#lines-table tbody tr")
    ]
    assert amounts == sorted(amounts, reverse=True) and amounts[0] == 300_000_000, amounts[:3]
    assert browser.find_element(By.CSS_SELECTOR, "#lines-table tbody tr").get_attribute("data-line") == CUT_LINE
    browser.find_element(By.ID, "lines-next").click()
    wait_until(lambda: "cursor=" in browser.current_url, "the second page of lines")
    second = [
        int(r.get_attribute("data-committed")) for r in browser.find_elements(By.CSS_SELECTOR, "#lines-table tbody tr")
    ]
    assert len(second) == 50 and second[0] <= amounts[-1] and second == sorted(second, reverse=True)
    assert "Page 2 · lines 51 to 100" in browser.find_element(By.ID, "lines-shown").text
    screenshot(browser, "r18-100k-objective-lines-page2-desktop")

    # Filtered by year, level and institution with the form.
    browser.get(f"{seeded.console}{path}")
    Select(browser.find_element(By.NAME, "fiscal_year")).select_by_value(str(YEAR))
    Select(browser.find_element(By.NAME, "level")).select_by_value("REGIONE")
    Select(browser.find_element(By.NAME, "institution_id")).select_by_value(REGIONE)
    Select(browser.find_element(By.NAME, "sort")).select_by_value("-committed")
    browser.find_element(By.CSS_SELECTOR, "#line-filters button[type=submit]").click()
    wait_until(lambda: "institution_id=" in browser.current_url, "the filtered lines")
    rows = browser.find_elements(By.CSS_SELECTOR, "#lines-table tbody tr")
    assert rows and rows[0].get_attribute("data-line") == CUT_LINE
    for row in rows:
        cells = {c.get_attribute("data-label"): c.text for c in row.find_elements(By.CSS_SELECTOR, "td[data-label]")}
        assert (cells["Institution"], cells["Level"], cells["Year"]) == ("Regione Liguria", "Region", str(YEAR)), cells
    assert len(browser.find_elements(By.CSS_SELECTOR, "#subtotals .subtotal")) == 1  # the year chosen
    filtered = browser.current_url.replace(seeded.console, "")
    both_widths(seeded, browser, filtered, "objective-filtered")
    browser.get(f"{seeded.console}{path}")
    both_widths(seeded, browser, path, "objective")


# The nodes a filter matched, read in one round trip: a WebDriver call per node of a
# 3,000-node tree cost the suite a minute.
MATCHED_NODES = """
return [...document.querySelectorAll('#tree [data-node]:not(.context)')].map(n => ({
  badge: (n.querySelector('.badge') || {innerText: ''}).innerText,
  text: n.innerText,
  eu: !!n.querySelector('svg.bar rect.lv-EU'),
}));
"""


def test_the_plan_tree_of_3000_nodes_with_filters_and_bars(seeded: Seeded, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    plan = RS.plan_id
    path = f"/plans/{plan}?year={YEAR}&lang=en"
    visit(seeded, browser, path, "plan_tree")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#tree [data-node]")) == RS.plan_nodes
    big = browser.find_element(By.CSS_SELECTOR, f"#tree [data-node='{BIG}']")
    assert big.find_elements(By.CSS_SELECTOR, "svg.bar rect.lv-REGIONE"), "no Regione segment on its bar"
    assert "€" in big.find_element(By.CSS_SELECTOR, ".n-figs").text and "Lead:" in big.text
    assert browser.find_element(By.ID, "kinds-legend").text.count("Programme") == 1
    both_widths(seeded, browser, path, "plan")

    at_risk = f"/plans/{plan}?year={YEAR}&only_at_risk=true&lang=en"
    visit(seeded, browser, at_risk, "plan_tree_at_risk")
    matched = browser.execute_script(MATCHED_NODES)
    assert matched and all("at risk" in n["badge"].lower() for n in matched)
    shown = browser.find_element(By.CSS_SELECTOR, "#filtered [data-matched]").get_attribute("data-matched")
    assert int(shown) == len(matched) < RS.plan_nodes
    both_widths(seeded, browser, at_risk, "plan-at-risk")

    by_lead_and_level = f"/plans/{plan}?year={YEAR}&lead={RS.lead(0)}&level=EU&lang=en"
    visit(seeded, browser, by_lead_and_level, "plan_tree_lead_level")
    matched = browser.execute_script(MATCHED_NODES)
    assert matched and all(f"Lead: {RS.lead(0)}" in n["text"] for n in matched)
    assert all(n["eu"] for n in matched), "a match without EU money"
    both_widths(seeded, browser, by_lead_and_level, "plan-lead-level")


def test_events_undelivered_and_poison_pages(seeded: Seeded, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    def worded() -> str | None:
        visit(seeded, browser, "/events?lang=en", "events")
        text = browser.find_element(By.TAG_NAME, "main").text
        return text if "Ufficio di piano 0 is the new lead" in text else None

    text = wait_until(worded, "the lead's assignment worded on the events page", timeout=60)
    assert "Il Miglio Blu" in text, text
    both_widths(seeded, browser, "/events?lang=en", "events")
    visit(seeded, browser, "/dead-letters?lang=en", "undelivered")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Undelivered alerts"
    assert browser.find_elements(By.CSS_SELECTOR, "#dead-letters, .empty")
    both_widths(seeded, browser, "/dead-letters?lang=en", "undelivered")
    visit(seeded, browser, "/poison-events?lang=en", "poison")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Poison events (dead letters)"
    assert (
        len(browser.find_elements(By.CSS_SELECTOR, "[id^='poison-']:not(#poison-scope)")) == 4
    )  # one section per service
    both_widths(seeded, browser, "/poison-events?lang=en", "poison")


def test_the_new_elements_keep_a_contrast_of_4_5_to_1(seeded: Seeded, browser) -> None:  # type: ignore[no-untyped-def]
    problems = []
    for path in (
        f"/?year={YEAR}",
        f"/objectives/{BIG}",
        f"/objectives?status=AT_RISK&fiscal_year={YEAR}&sort=gap",
        f"/plans/{RS.plan_id}?year={YEAR}&only_at_risk=true",
    ):
        for lang in ("it", "en"):
            browser.get(f"{seeded.console}{path}{'&' if '?' in path else '?'}lang={lang}")
            checked, failures = browser.execute_script(CONTRAST, MIN_CONTRAST)
            assert checked > 50, f"{path}: only {checked} texts found to check"
            problems += [f"{path} ({lang}): {f}" for f in failures]
    assert not problems, "texts below 4.5:1:\n" + "\n".join(problems[:40])


def test_timings_are_reported(seeded: Seeded) -> None:
    """Not a limit (a loaded CI machine is no benchmark): what it took, for the report."""
    assert seeded.timings["seed_s"] > 0
    print(json.dumps(seeded.timings, indent=2))  # noqa: T201
