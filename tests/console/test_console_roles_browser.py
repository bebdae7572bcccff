"""Each role in a real browser on `regia up --demo`, which makes one account per role and
prints their passwords once: headless Chromium logs in as each, reads the name and role in
the header and the navigation the role gets, opens a page the role may not see and meets
the 403 page (its status read over HTTP with the same login), then logs out."""

import re
from collections.abc import Iterator

import httpx
import pytest

from .regia_process import RUNNING, RegiaUpDemo
from .test_console_browser import browser_or_skip, headless_chromium, severe, wait_until

pytestmark = pytest.mark.e2e
TOKEN = "console-roles-browser-test-admin-token"

# What each role's navigation links to, and a page it may not open.
ROLES = {
    "admin": (
        "administrator",
        ["/", "/objectives", "/events", "/dead-letters", "/poison-events", "/alerts/unaddressed", "/accounts"],
        None,
    ),
    "observer": (
        "observer",
        ["/", "/objectives", "/events", "/dead-letters", "/poison-events", "/alerts/unaddressed"],
        "/accounts",
    ),
    "officer": ("institution_officer", ["/institution", "/my-alerts"], "/plans/spezia-capitale-della-nautica"),
    "lead": ("project_lead", ["/objectives", "/my-alerts"], "/dead-letters"),
}


@pytest.fixture(scope="module")
def regia(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegiaUpDemo]:
    browser_or_skip()
    up = RegiaUpDemo(tmp_path_factory.mktemp("console-roles") / "data", TOKEN)
    try:
        up.wait_for(RUNNING)
        yield up
    finally:
        up.stop()


def passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+login (\S+)\s+password (\S+)$", output, re.M))


def test_each_role_sees_its_own_navigation_and_a_403_page_for_the_rest(regia: RegiaUpDemo) -> None:
    from selenium.webdriver.common.by import By

    console = regia.url("console")
    made = passwords(regia.output)
    assert set(made) == set(ROLES), regia.output
    driver = headless_chromium()
    try:
        for login, (role, nav, forbidden) in ROLES.items():
            driver.get(f"{console}/login?lang=en")
            driver.find_element(By.ID, "login").send_keys(login)
            driver.find_element(By.ID, "password").send_keys(made[login])
            driver.find_element(By.ID, "login-submit").click()
            wait_until(lambda: driver.find_elements(By.ID, "who-role"), f"{login} logged in")
            assert driver.find_element(By.ID, "who-role").get_attribute("data-role") == role
            links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "header nav a")]
            assert [link.removeprefix(console) for link in links] == nav, login
            assert made[login] not in driver.page_source
            assert not severe(driver), f"browser errors for {login}"
            if forbidden:
                driver.get(f"{console}{forbidden}")
                assert driver.find_elements(By.ID, "forbidden"), f"{login} opened {forbidden}"
                with httpx.Client(base_url=console, timeout=30) as http:
                    r = http.post("/login", data={"login": login, "password": made[login]})
                    assert r.status_code == 303, r.text
                    assert http.get(forbidden).status_code == 403
            driver.find_element(By.ID, "logout").click()
            wait_until(lambda: "/login" in driver.current_url, f"{login} logged out")
    finally:
        driver.quit()
