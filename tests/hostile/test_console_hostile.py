"""The console under odd and hostile input: ids with `/ ? # %` and dots, non-ASCII and very
long ids, query parameters that are not numbers, services that answer 404, 422 or 500 or
do not answer at all, and service data with odd values. No answer is a 500: an unknown id
is a 404 page, bad input a 400 page that says what was wrong, a service down a 503 page,
each with a way back. An id always reaches a service percent-encoded as one path segment,
so an id cannot reach another endpoint (`../ops/dead-letters`, `x?admin=1`).

The stub services here are real HTTP servers (tests/support/http_stub.py) that record the
raw path each request arrived with; the last test runs the real services."""

import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from regia.local.embedded.process import free_port
from regia_console.feed import EventFeed
from regia_console.sessions import COOKIE
from regia_console.settings import ConsoleSettings
from regia_console.web import create_app
from regia_shared.http.identity import Person, Role, SessionSigner

from ..support.figures import record
from ..support.http_stub import Answer, HttpStub
from ..support.services import SESSION_SIGNING_KEYS
from ..unit.test_console_web import session_answer
from .conftest import unchanged

TOKEN = "console-hostile-test-token"
ODD_LINES = ["DGR#12", "a?admin=1", "../ops/dead-letters", "..", "LIG 2027/è"]
YEAR = {
    "fiscal_year": 2027,
    "need_cents": 100,
    "committed_cents": 50,
    "coverage_bp": 5000,
    "status": "AT_RISK",
    "committed_by_level": {"REGIONE": 50},
}


class StubFeed(EventFeed):
    def start(self) -> None:  # the events page is not what these tests are about
        pass


def plan(plan_id: str = "p1") -> dict:
    return {
        "plan_id": plan_id,
        "title": "Piano",
        "territory": "La Spezia",
        "first_year": 2026,
        "last_year": 2028,
        "at_risk_threshold_pct": 80,
        "years": [YEAR],
        "nodes": [
            {
                "node_id": "../ops/dead-letters",
                "kind": "OBJECTIVE",
                "title": "odd id",
                "years": [YEAR],
                "children": [{"node_id": "x?admin=1", "kind": None, "title": None, "years": [{}], "children": []}],
            }
        ],
    }


def objective(objective_id: str = "o1", lines: list[str] = ODD_LINES) -> dict:
    return {
        "objective_id": objective_id,
        "title": "Obiettivo",
        "plan_id": "../ops",
        "parent_id": "a/b",
        "children": [{"objective_id": "c?d", "title": "child"}, "e#f"],
        "at_risk_threshold_pct": 80,
        "years": [
            # Institution ids are the institutions' own: odd ones render as text, escaped.
            {
                **YEAR,
                "by_institution": [
                    {
                        "institution_id": i,
                        "level": "REGIONE",
                        "committed_cents": 1,
                        "disbursed_cents": 0,
                        "line_count": 1,
                    }
                    for i in lines
                ]
                + [{"no_institution_id": True}, "not a mapping"],
            },
            {"fiscal_year": 2028, "status": None, "coverage_bp": None, "need_cents": None, "committed_by_level": None},
        ],
    }


def services_answer(method: str, path: str) -> Answer:
    """Every service at once (each is a separate stub, all answer alike)."""
    bare = path.split("?", 1)[0]
    if bare == "/v1/plans":
        return 200, {
            "items": [{"plan_id": "a/b?c#d", "title": "odd", "first_year": 2026, "last_year": 2027}],
            "next_cursor": None,
        }
    if bare == "/v1/plans/p1":
        return 200, plan()
    if bare == "/v1/plans/down":
        return 500, {"error": "internal"}
    if bare == "/v1/plans/refused":
        return 422, {"error": "invalid", "message": "plan_id: too long", "field": "plan_id", "details": []}
    if bare == "/v1/plans/not-json":
        return 200, b"<html>a proxy's page</html>"
    if bare == "/v1/plans/odd":
        return 200, {"plan_id": "odd", "title": "no years", "nodes": None}
    if bare == "/v1/objectives/o1":
        return 200, objective()
    if bare == "/v1/objectives":
        return 200, {
            "items": [{"objective_id": "a/b", "title": "odd", "years": [{"fiscal_year": 2027, "status": "AT_RISK"}]}],
            "next_cursor": None,
        }
    if bare.startswith("/v1/funding-lines/"):
        return 200, {
            "line_id": "L",
            "fiscal_year": 2027,
            "level": "REGIONE",
            "institution_id": "x",
            "committed_cents": 1,
            "disbursed_cents": 0,
            "history": [{"kind": "COMMITMENT"}],
        }
    if bare == "/v1/totals":
        return 200, []
    if bare in ("/v1/deliveries", "/v1/dead-letters", "/v1/alerts/unaddressed"):
        return 200, {"items": [], "next_cursor": None}
    if bare == "/v1/dead-letters/retry":
        return 200, {"retried": [], "not_dead": [], "unknown": []}
    return 404, {"error": "not_found", "message": "no such thing", "field": None, "details": []}


@pytest.fixture
def stub() -> Iterator[HttpStub]:
    with HttpStub(services_answer) as server:
        yield server


def console_for(urls: dict[str, str]) -> TestClient:
    """The console with an administrator logged in: the session is opened as a login would
    (partners' answer, here made up), so the stubs, or services that do not answer, need
    not log anyone in (the logins themselves are tests/integration/test_console_accounts.py's)."""
    settings = ConsoleSettings(**{f"{name}_url": url for name, url in urls.items()})
    app = create_app(settings, feed=StubFeed("unused:0", []))
    client = TestClient(app)
    client.cookies.set(COOKIE, app.state.sessions.open(session_answer(token=TOKEN)))
    return client


@pytest.fixture
def console(stub: HttpStub) -> Iterator[TestClient]:
    with console_for({name: stub.url for name in ("funding", "objectives", "partners", "notifier")}) as client:
        yield client


def a_page(answer: httpx.Response, status: int) -> str:
    """An HTML page of the console with that status and a way back to the overview."""
    assert answer.status_code == status, (answer.status_code, answer.text[:500])
    assert answer.headers["content-type"].startswith("text/html"), answer.headers["content-type"]
    assert 'id="back"' in answer.text and 'href="/"' in answer.text, answer.text[:1000]
    return answer.text


MISSING = [
    "/plans/nowhere",
    "/plans/a%2Fb",
    "/plans/a%3Fb",
    "/plans/a%23b",
    "/plans/a%20b",
    "/plans/%C3%A8",
    "/plans/" + "x" * 5000,
    "/plans/%2E%2E",
    "/objectives/nowhere",
    "/objectives/..%2Fops%2Fdead-letters",
    "/objectives/%3F",
    "/nowhere",
    "/plans/p1/extra",
    "/plans/",
    "/objectives/" + "é" * 3000,
]


@pytest.mark.parametrize("path", MISSING)
def test_an_unknown_or_odd_id_is_a_not_found_page(console: TestClient, path: str) -> None:
    a_page(console.get(path), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/plans/p1?year=abc",
        "/plans/p1?year=2027.5",
        "/plans/p1?year=",
        "/dead-letters?retried=abc",
        "/plans/p1?year=" + "9" * 5000,
    ],
)
def test_a_query_parameter_that_is_not_a_number_is_a_bad_request_page_that_names_it(
    console: TestClient, path: str
) -> None:
    text = a_page(console.get(path), 400)
    assert "year" in text or "retried" in text


@pytest.mark.parametrize(
    "query",
    ["year=99999999999", "year=-1", "year=2027&year=abc", "lang=xx", "lang=", "unknown=1", "year=2027&lang=en%00"],
)
def test_odd_but_harmless_queries_show_the_plan(console: TestClient, query: str) -> None:
    answer = console.get(f"/plans/p1?{query}")
    assert answer.status_code in (200, 400), answer.text[:300]
    assert answer.status_code == 200 or 'id="back"' in answer.text


def test_ids_and_data_with_odd_values_render(console: TestClient) -> None:
    for path in ("/", "/plans/p1", "/objectives/o1", "/dead-letters", "/alerts/unaddressed", "/events"):
        assert console.get(path).status_code == 200, path
    assert a_page(console.get("/plans/odd"), 503)  # a plan without years is not one the console can draw


def test_every_id_reaches_the_service_as_one_encoded_segment(console: TestClient, stub: HttpStub) -> None:
    console.get("/plans/x%3Fadmin=1")
    console.get("/plans/a%23frag")
    assert console.get("/objectives/o1").status_code == 200
    reached = set(stub.paths)
    # The plan page asks for one year of its tree (?fiscal_year=): the id is the path's last segment.
    bare = {p.split("?", 1)[0] for p in reached}
    assert "/v1/plans/x%3Fadmin%3D1" in bare and "/v1/plans/a%23frag" in bare, reached
    assert "/v1/objectives/o1" in reached, reached
    # nothing but the endpoints the pages read: no id escaped its segment
    assert not [
        p
        for p in reached
        if (
            p.startswith(("/v1/ops", "/v1/funding-lines?", "/v1/plans?", "/v1/?"))
            and not p.startswith(("/v1/plans?limit=", "/v1/funding-lines?objective_id=o1&"))
        )
        or p in ("/v1/", "/v1/funding-lines/", "/v1/plans/")
    ], reached
    record("console ids reach services encoded", inputs=3, faults=0, euros_lost=0)


def test_links_built_from_ids_stay_one_segment(console: TestClient) -> None:
    pages = console.get("/").text + console.get("/plans/p1").text + console.get("/objectives/o1").text
    for odd in ("a/b?c#d", "../ops/dead-letters", "x?admin=1", "../ops", "a/b", "c?d", "e#f"):
        assert quote(odd, safe="") in pages, odd
    for raw in (
        'href="/plans/a/b',
        'href="/objectives/../ops',
        'href="/objectives/x?admin',
        'href="/plans/../ops',
        'href="/objectives/a/b',
        'href="/objectives/c?d',
        'href="/objectives/e#f',
    ):
        assert raw not in pages, raw


@pytest.mark.parametrize(("plan_id", "status"), [("down", 503), ("refused", 400), ("not-json", 503)])
def test_a_service_that_fails_is_a_page_that_says_so(console: TestClient, plan_id: str, status: int) -> None:
    text = a_page(console.get(f"/plans/{plan_id}"), status)
    assert "objectives" in text and TOKEN not in text


def test_services_that_do_not_answer_are_an_unavailable_page_or_a_gap() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with console_for({name: nowhere for name in ("funding", "objectives", "partners", "notifier")}) as console:
        assert console.get("/").status_code == 200  # gaps, not an error page
        assert console.get("/dead-letters").status_code == 200
        unaddressed = console.get("/alerts/unaddressed")  # the notifier down: a gap that says so
        assert unaddressed.status_code == 200 and '<p class="gap">' in unaddressed.text
        a_page(console.get("/plans/p1"), 503)
        a_page(console.get("/objectives/o1"), 503)
        csrf = console.get("/dead-letters").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        a_page(console.post("/dead-letters/retry", data={"csrf": csrf, "all": "1"}), 503)
    record("console with every service down", faults=4, euros_lost=0)


@pytest.mark.parametrize("delivery_id", ["", "not-a-uuid", "../ops", "6f1c1f7e-6a4b-4bd5-9d59-11111111111Z"])
def test_a_retry_of_something_that_is_not_a_delivery_id_is_a_bad_request_page(
    console: TestClient, stub: HttpStub, delivery_id: str
) -> None:
    csrf = console.get("/dead-letters").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    text = a_page(console.post("/dead-letters/retry", data={"csrf": csrf, "delivery_id": delivery_id}), 400)
    assert "delivery" in text
    assert not [p for p in stub.paths if p.startswith("/v1/dead-letters/retry")]
    record("console retry with a bad delivery id", inputs=1, euros_lost=0)


async def test_hostile_urls_on_the_real_services_are_pages_and_change_nothing(  # type: ignore[no-untyped-def]
    funding, institution, objectives, notifier, database
) -> None:
    """The same probes against the real funding, objectives and notifier: a `?` or `#` id
    used to reach `/v1/plans/` (the service's redirect is no JSON: a 500), and a retry of a
    delivery id that is not one was a 500 too. A real line's money shows on its objective's page."""
    from ..support.services import ADMIN_HEADERS, in_process
    from ..support.wait import eventually

    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post(
            "/v1/objectives",
            json={
                "objective_id": "miglio-blu",
                "title": "Il Miglio Blu",
                "needs": [{"fiscal_year": 2027, "need_cents": 500_000_00}],
            },
        )
        assert r.status_code in (200, 201), r.text
    async with funding.client(headers={**institution, "Idempotency-Key": "console-1"}) as inst:
        r = await inst.post(
            "/v1/funding-events",
            json={
                "type": "commitment",
                "line_id": "LIG-2027.1:a",
                "instrument_id": "por-fesr-liguria",
                "objective_id": "miglio-blu",
                "fiscal_year": 2027,
                "committed_cents": 100_000_00,
                "reason": "DGR 1/2026",
            },
        )
        assert r.status_code == 202, r.text

    async def line_known() -> bool:
        async with objectives.client() as client:
            body = (await client.get("/v1/objectives/miglio-blu")).json()
        return any(y["line_count"] for y in body.get("years") or [])

    await eventually(line_known, what="the line projected onto its objective")

    settings = ConsoleSettings(
        funding_url=funding.url,
        objectives_url=objectives.url,
        partners_url=f"http://127.0.0.1:{free_port()}",
        notifier_url=notifier.url,
    )
    app = create_app(settings, feed=StubFeed("unused:0", []))
    # An administrator's real session token (signed with the test keys every service
    # verifies): the partners service, which would mint it at a login, is left unstarted.
    person = Person("ada", "Ada", Role.ADMINISTRATOR, "s-hostile")
    token = SessionSigner(SESSION_SIGNING_KEYS, 300).token(person)
    session_id = app.state.sessions.open(session_answer(token=token))
    async with in_process("console", lambda: app) as console:
        async with httpx.AsyncClient(base_url=console.url, timeout=30, cookies={COOKIE: session_id}) as browser:
            page = await browser.get("/objectives/miglio-blu")
            # The line's money shows by institution (the document embeds no lines: issue 18).
            async with objectives.client() as client:
                funder = (await client.get("/v1/objectives/miglio-blu")).json()["years"][0]["by_institution"][0]
            # The only gap the page may own up to is the partners service's, which this test leaves
            # unstarted: the roles card says it did not answer, nothing else is missing.
            gaps = re.findall(r'class="gap">([^<]*)<', page.text)
            assert page.status_code == 200 and funder["institution_id"] in page.text, page.text
            assert all("partner" in gap for gap in gaps), gaps
            probes = {
                404: [
                    "/plans/%3F",
                    "/plans/%23",
                    "/plans/%2E%2E",
                    "/plans/x%3Fadmin=1",
                    "/objectives/%3F",
                    "/objectives/%23",
                    "/objectives/%2E%2E",
                    "/objectives/miglio-blu%3Fx=1",
                    "/objectives/é",
                    "/objectives/" + "x" * 3000,
                    "/plans/a%2Fb",
                    "/nowhere",
                ],
                400: ["/plans/x?year=abc", "/dead-letters?retried=x"],
            }
            async with unchanged(database):
                for status, paths in probes.items():
                    for probe in paths:
                        a_page(await browser.get(probe), status)
                csrf = (await browser.get("/dead-letters")).text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                for bad in ("x", "../ops", ""):
                    a_page(await browser.post("/dead-letters/retry", data={"csrf": csrf, "delivery_id": bad}), 400)
    record("console hostile urls on the real services", inputs=sum(map(len, probes.values())) + 3, euros_lost=0)
