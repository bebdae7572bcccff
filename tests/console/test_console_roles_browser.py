"""Issue 20's end-to-end test of least privilege, on `regia up --demo` (every service its own
process, real PostgreSQL and broker), which makes one account per role and prints their
passwords once:

- in headless Chromium, each person logs in, reads their name and role in the header and
  the navigation their role gets, opens a page the role may not see and meets the 403 page
  (its status read over HTTP with the same login), then logs out;
- through the API, each logs in at the partners service and each service answers them
  exactly what their role may do: an officer their institution's lines and keys only, a
  lead their own alert preferences and no funding operations, an observer reads and
  writes nothing, an administrator everything."""

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
                # The one error the browser may log is that page's own 403.
                errors = severe(driver)
                assert all(forbidden in e["message"] and "403" in e["message"] for e in errors), errors
                with httpx.Client(base_url=console, timeout=30) as http:
                    r = http.post("/login", data={"login": login, "password": made[login]})
                    assert r.status_code == 303, r.text
                    assert http.get(forbidden).status_code == 403
            driver.find_element(By.ID, "logout").click()
            wait_until(lambda: "/login" in driver.current_url, f"{login} logged out")
    finally:
        driver.quit()


def test_each_role_gets_exactly_its_rights_from_the_services_api(regia: RegiaUpDemo) -> None:
    made = passwords(regia.output)
    funding, partners, objectives = (regia.url(s) for s in ("funding", "partners", "objectives"))

    def session(login: str) -> tuple[httpx.Client, dict]:
        answer = httpx.post(f"{partners}/v1/sessions", json={"login": login, "password": made[login]}, timeout=30)
        assert answer.status_code == 201, answer.text
        body = answer.json()
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        return httpx.Client(headers=headers, timeout=30), body["account"]

    def institutions_of(http: httpx.Client) -> set[str]:
        answer = http.get(f"{funding}/v1/funding-lines", params={"limit": 500})
        assert answer.status_code == 200, answer.text
        return {line["institution_id"] for line in answer.json()["items"]}

    admin, _ = session("admin")
    with admin:
        every = institutions_of(admin)
        assert len(every) > 1, every  # the demo's money comes from several institutions
        assert admin.get(f"{partners}/v1/accounts").status_code == 200

    officer, account = session("officer")
    with officer:
        assert institutions_of(officer) == {account["institution_id"]} == {"regione-liguria"}
        assert officer.get(f"{funding}/v1/institutions/regione-liguria/keys").status_code == 200
        r = officer.get(f"{funding}/v1/institutions/comune-spezia/keys")
        assert r.status_code == 403 and "comune-spezia" in r.json()["message"], r.text
        assert officer.get(f"{partners}/v1/accounts").status_code == 403
        assert officer.get(f"{funding}/v1/audit").status_code == 403

    lead, account = session("lead")
    with lead:
        assert account["role"] == "project_lead" and account["contact_id"]
        r = lead.get(f"{partners}/v1/contacts/{account['contact_id']}/preferences")
        assert r.status_code in (200, 404), r.text  # theirs to read (404: none set yet)
        led = lead.get(f"{objectives}/v1/objectives", params={"lead": account["partner_id"]})
        assert led.status_code == 200 and led.json()["items"], led.text
        assert lead.get(f"{funding}/v1/funding-lines").status_code == 403
        assert lead.get(f"{objectives}/v1/audit").status_code == 403
        assert lead.post(f"{objectives}/v1/objectives", json={}).status_code == 403

    observer, _ = session("observer")
    with observer:
        assert institutions_of(observer) == every
        assert observer.get(f"{funding}/v1/audit").status_code == 200
        r = observer.post(f"{objectives}/v1/objectives", json={})
        assert r.status_code == 403 and "observer" in r.json()["message"], r.text
        assert observer.post(f"{funding}/v1/institutions/regione-liguria/keys", json={}).status_code == 403
        assert observer.get(f"{partners}/v1/accounts").status_code == 403
        assert observer.get(f"{partners}/v1/partners").status_code == 403  # contacts are not theirs
