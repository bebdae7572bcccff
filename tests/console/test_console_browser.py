"""The console in a real browser on the La Spezia demo: `regia up --demo` starts it beside
the services; headless Chromium logs in, opens every page in Italian and English with no
error in the browser's console, and then watches a funding cut arrive live and put its
objective at the top of the objectives at risk. Screenshots land in tests/artifacts/console/."""

import os
import re
import shutil
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from .regia_process import RUNNING, RegiaUpDemo

pytestmark = pytest.mark.e2e

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
TOKEN = "console-browser-test-admin-token"
ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "console"
PLAN = "spezia-capitale-della-nautica"
PAGES = {
    "overview": "/",
    "plan": f"/plans/{PLAN}",
    "objective": "/objectives/miglio-blu",
    "events": "/events",
    "dead-letters": "/dead-letters",
    "unaddressed": "/alerts/unaddressed",
}


def browser_or_skip() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (pip install -e '.[test]')")
    if missing:
        why = f"the console's browser tests need {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="module")
def regia(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegiaUpDemo]:
    browser_or_skip()
    up = RegiaUpDemo(tmp_path_factory.mktemp("console") / "data", TOKEN)
    try:
        up.wait_for(RUNNING)
        assert "warning" not in up.output, up.output
        assert up.url("console") in up.output, "regia up does not say where the console is"
        yield up
    finally:
        up.stop()


@pytest.fixture(scope="module")
def browser(regia: RegiaUpDemo):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.implicitly_wait(0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        log_in(driver, regia.url("console"))
        yield driver
    finally:
        driver.quit()


def log_in(driver, console: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    driver.get(f"{console}/")
    assert "/login" in driver.current_url, "a page opened without a session"
    driver.find_element(By.ID, "token").send_keys(TOKEN)
    driver.find_element(By.ID, "login-submit").click()
    wait_until(lambda: driver.find_elements(By.ID, "health"), "the overview after logging in")
    assert TOKEN not in driver.page_source
    assert all(TOKEN not in (c.get("value") or "") for c in driver.get_cookies())


def wait_until(check, what: str, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"never saw {what} within {timeout:.0f}s")


def screenshot(driver, name: str) -> None:  # type: ignore[no-untyped-def]
    """The whole page: the window is stretched to the page's height first."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(800, min(int(height) + 40, 6000)))
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    driver.set_window_size(1280, 1000)


def severe(driver) -> list[dict]:  # type: ignore[no-untyped-def]
    return [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def test_every_page_in_italian_and_english_without_browser_errors(regia: RegiaUpDemo, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    console = regia.url("console")
    severe(browser)  # what the login produced is checked with the first page
    for lang, words in (("it", "Panoramica"), ("en", "Overview")):
        for name, path in PAGES.items():
            browser.get(f"{console}{path}?lang={lang}")
            assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang, path
            assert words in browser.find_element(By.TAG_NAME, "nav").text, path
            time.sleep(0.3)  # the events page opens its stream; let any error be logged
            screenshot(browser, f"{name}-{lang}")
            assert not severe(browser), f"browser errors on {path}?lang={lang}"
    browser.get(f"{console}{PAGES['plan']}")
    assert browser.find_elements(By.CSS_SELECTOR, "[data-node='miglio-blu-filiera'] svg.bar"), (
        "the plan tree shows no coverage bar for a node with a need"
    )
    health = browser.find_elements(By.CSS_SELECTOR, "#health li.ok")
    assert not health or len(health) == 4


def test_a_funding_cut_arrives_live_and_tops_the_objectives_at_risk(regia: RegiaUpDemo, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    console = regia.url("console")
    browser.get(f"{console}/events?lang=en")
    wait_until(lambda: browser.find_element(By.ID, "stream-state").text == "live", "the stream connected")
    # Read through a script: rows arrive while we look, so element handles would go stale.
    # Rows the stream added are marked 'fresh'; the page's first rows are not.
    pushed = "return [...document.querySelectorAll('#events tbody tr.fresh')].map(r => r.innerText).join('\\n')"
    assert "FundingCommitted" not in browser.execute_script(pushed)
    push(regia, "console-commitment", CUT[0])
    wait_until(
        lambda: "FundingCommitted" in browser.execute_script(pushed),
        "FundingCommitted pushed to the events page over SSE",
    )
    screenshot(browser, "events-live")
    assert not severe(browser)

    push(regia, "console-revision", CUT[1])

    def first_at_risk() -> str | None:
        browser.get(f"{console}/?lang=it")
        rows = browser.find_elements(By.CSS_SELECTOR, "#at-risk tbody tr")
        return rows and rows[0].get_attribute("data-objective") == "miglio-blu"

    wait_until(first_at_risk, "miglio-blu first among the objectives at risk", timeout=90)
    assert "60,00 %" in browser.find_element(By.ID, "at-risk").text
    screenshot(browser, "overview-at-risk")
    browser.get(f"{console}/objectives/miglio-blu?lang=it")
    assert "LIG-2027-001" in browser.page_source
    screenshot(browser, "objective-after-cut")
    assert not severe(browser)


def push(regia: RegiaUpDemo, idempotency_key: str, event: dict) -> None:
    """A funding event as Regione Liguria's system sends it: with the key the demo issued."""
    answer = httpx.post(
        f"{regia.url('funding')}/v1/funding-events",
        json=event,
        timeout=10,
        headers={"Authorization": f"Bearer {regia.demo_key()}", "Idempotency-Key": idempotency_key},
    )
    assert answer.status_code == 202, answer.text


def test_a_person_sets_their_preferences_on_a_phone_from_the_link_in_their_mail(regia: RegiaUpDemo, browser) -> None:  # type: ignore[no-untyped-def]
    """The footer's link and the one-click unsubscribe of a real mail of the demo, opened
    at a phone's width: no login, no sideways scrolling, no browser error."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    # The cut of the test above (replayed, so nothing twice, if it already ran) mails the lead.
    for key, event in (("console-commitment", CUT[0]), ("console-revision", CUT[1])):
        push(regia, key, event)
    mail = wait_until(lambda: mail_with_links(regia.data_dir / "mail"), "an e-mail with its preferences link")
    text = mail.get_body(("plain",)).get_content()
    preferences = re.search(r"https?://\S+/preferences/[A-Za-z0-9_.-]+", text)
    unsubscribe = re.fullmatch(r"<(https?://\S+/unsubscribe/[A-Za-z0-9_.-]+)>", mail["List-Unsubscribe"])
    assert preferences and unsubscribe, (text, mail["List-Unsubscribe"])
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    browser.delete_all_cookies()  # a reader's own browser, not the administrator's session
    browser.set_window_size(390, 844)
    try:
        severe(browser)
        browser.get(preferences.group(0))
        # In the language of the person's e-mails.
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == mail["Content-Language"]
        assert not browser.find_elements(By.TAG_NAME, "nav"), "the administrators' menu on a public page"
        assert fits(browser), "the preferences page scrolls sideways on a phone"
        Select(browser.find_element(By.ID, "kind-review_closed")).select_by_value("weekly_digest")
        browser.find_element(By.ID, "save").click()
        wait_until(lambda: browser.find_elements(By.ID, "saved"), "the preferences saved")
        assert (
            Select(browser.find_element(By.ID, "kind-review_closed")).first_selected_option.get_attribute("value")
            == "weekly_digest"
        )
        browser.save_screenshot(str(ARTIFACTS / "preferences-phone.png"))

        browser.get(unsubscribe.group(1))
        assert browser.find_elements(By.ID, "unsubscribe-button") and fits(browser)
        browser.save_screenshot(str(ARTIFACTS / "unsubscribe-phone.png"))
        browser.find_element(By.ID, "unsubscribe-button").click()
        wait_until(lambda: browser.find_elements(By.ID, "unsubscribed"), "the one-click unsubscribe done")
        assert not severe(browser)
    finally:
        browser.set_window_size(1280, 1000)


CUT = (
    {
        "type": "commitment",
        "line_id": "LIG-2027-001",
        "instrument_id": "bilancio-regione-liguria",
        "objective_id": "miglio-blu",
        "fiscal_year": 2027,
        "committed_cents": 450_000_000,
        "reason": "DGR Regione Liguria: cofinanziamento Miglio Blu 2027",
    },
    {
        "type": "revision",
        "line_id": "LIG-2027-001",
        "committed_cents": 300_000_000,
        "reason": "Assestamento di bilancio",
    },
)


def mail_with_links(folder: Path) -> EmailMessage | None:
    for path in sorted(folder.glob("*.eml")):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        if isinstance(mail, EmailMessage) and mail["List-Unsubscribe"]:
            return mail
    return None


def fits(browser) -> bool:  # type: ignore[no-untyped-def]
    return bool(browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"))
