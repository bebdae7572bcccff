"""The console pages of issue 18 against stub services (no browser): the plan tree's figures,
filters and bars, events in words, the undelivered alerts and poison events pages, the
overview's counts per year and the objectives index, in both shapes the objectives service
answers while it changes."""

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from regia_console import charts, index, narration, objective_view, overview, tree
from regia_console.feed import EventFeed
from regia_console.gateway import listed
from regia_console.settings import ConsoleSettings
from regia_console.web import create_app
from tests.unit.test_console_web import LOGIN, PASSWORD, StubFeed, StubGateway

PLAN = {
    "plan_id": "miglio",
    "title": "Il Miglio Blu",
    "territory": "La Spezia",
    "first_year": 2026,
    "last_year": 2027,
    "at_risk_threshold_pct": 80,
    "years": [
        {
            "fiscal_year": 2027,
            "need_cents": 1_000_000,
            "committed_cents": 900_000,
            "committed_by_level": {"REGIONE": 600_000, "COMUNE": 300_000},
            "coverage_bp": 9000,
            "status": "PARTIALLY_FUNDED",
        }
    ],
    "nodes": [
        {
            "node_id": "programma",
            "kind": "PROGRAMME",
            "title": "Programma nautica",
            "lead": "comune-spezia",
            "years": [
                {
                    "fiscal_year": 2027,
                    "need_cents": 1_000_000,
                    "committed_cents": 900_000,
                    "committed_by_level": {"REGIONE": 600_000, "COMUNE": 300_000},
                    "coverage_bp": 9000,
                    "status": "PARTIALLY_FUNDED",
                }
            ],
            "children": [
                {
                    "node_id": "banchine",
                    "kind": "ACTION",
                    "title": "Banchine",
                    "lead": "regione-liguria",
                    # Over-funded four times over, and by a funder that gave only 0.1 %.
                    "years": [
                        {
                            "fiscal_year": 2027,
                            "need_cents": 100_000,
                            "committed_cents": 400_500,
                            "committed_by_level": {"REGIONE": 400_000, "EU": 500},
                            "coverage_bp": 40050,
                            "status": "FUNDED",
                        }
                    ],
                    "children": [],
                },
                {
                    "node_id": "cantieri",
                    "kind": "ACTION",
                    "title": "Cantieri",
                    "lead": "comune-spezia",
                    "years": [
                        {
                            "fiscal_year": 2027,
                            "need_cents": 900_000,
                            "committed_cents": 300_000,
                            "committed_by_level": {"COMUNE": 300_000},
                            "coverage_bp": 3333,
                            "status": "AT_RISK",
                        }
                    ],
                    "children": [],
                },
            ],
        }
    ],
}

NEW_LIST = {
    "items": [
        {
            "objective_id": "miglio-blu",
            "title": "Il Miglio Blu 2027",
            "plan_id": "miglio",
            "kind": "OBJECTIVE",
            "lead": "comune-spezia",
            "at_risk_threshold_pct": 80,
            "years": [
                {
                    "fiscal_year": 2027,
                    "need_cents": 500_000_000,
                    "committed_cents": 300_000_000,
                    "disbursed_cents": 0,
                    "committed_by_level": {"REGIONE": 300_000_000},
                    "coverage_bp": 6000,
                    "coverage_pct": "60.00",
                    "status": "AT_RISK",
                    "status_since": "2026-11-25T10:00:00+00:00",
                    "gap_to_threshold_cents": 100_000_000,
                    "gap_to_full_cents": 200_000_000,
                    "over_committed_cents": 0,
                    "last_change": {
                        "at": "2026-11-25T10:00:00+00:00",
                        "line_id": "LIG-2027-001",
                        "institution_id": "regione-liguria",
                        "level": "REGIONE",
                        "kind": "REVISION",
                        "delta_cents": -150_000_000,
                        "committed_before_cents": 450_000_000,
                        "committed_after_cents": 300_000_000,
                        "reason": "Assestamento di bilancio",
                        "correlation_id": "c1",
                    },
                }
            ],
        }
    ],
    "next_cursor": "abc",
}


SUMMARY = {
    "fiscal_years": [2026, 2027],
    "fiscal_year": None,
    "objectives": 3,
    "counts": {"AT_RISK": 1, "FUNDED": 2},
    "need_cents": 900_000_000,
    "committed_cents": 700_000_000,
    "counted_cents": 650_000_000,
    "disbursed_cents": 10_000_000,
    "committed_by_level": {"REGIONE": 600_000_000, "EU": 100_000_000},
    "by_year": [
        {
            "fiscal_year": 2027,
            "need_cents": 500_000_000,
            "committed_cents": 300_000_000,
            "counted_cents": 300_000_000,
            "disbursed_cents": 0,
            "committed_by_level": {"REGIONE": 300_000_000},
            "counts": {"AT_RISK": 1},
        },
        {
            "fiscal_year": 2026,
            "need_cents": 400_000_000,
            "committed_cents": 400_000_000,
            "counted_cents": 350_000_000,
            "disbursed_cents": 10_000_000,
            "committed_by_level": {"REGIONE": 300_000_000, "EU": 100_000_000},
            "counts": {"FUNDED": 2},
        },
    ],
}

CUT_CHANGE = {
    "at": "2026-12-05T10:14:03.512000Z",
    "line_id": "LIG-2027-001",
    "institution_id": "regione-liguria",
    "level": "REGIONE",
    "fiscal_year": 2027,
    "kind": "FundingRevised",
    "delta_cents": -150_000_000,
    "committed_before_cents": 450_000_000,
    "committed_after_cents": 300_000_000,
    "disbursed_after_cents": 0,
    "reason": "Assestamento di bilancio",
    "correlation_id": "c1",
    "line_version": 2,
}
FIRST_COMMITMENT = CUT_CHANGE | {
    "at": "2026-12-05T10:12:40.101000Z",
    "kind": "FundingCommitted",
    "delta_cents": 450_000_000,
    "committed_before_cents": 0,
    "committed_after_cents": 450_000_000,
    "reason": "DGR Regione Liguria",
    "line_version": 1,
}


def line(n: int, cents: int) -> dict:
    return {
        "line_id": f"L{n:05d}",
        "institution_id": "regione-liguria",
        "instrument_id": "bilancio",
        "level": "REGIONE",
        "objective_id": "miglio-blu",
        "fiscal_year": 2027,
        "cup": "J12345678901234" if n == 1 else None,
        "source_ref": "1LIFESR-4.1.1-0007" if n == 1 else None,
        "source_status": "In corso" if n == 1 else None,
        "is_history": n == 2,
        "committed_cents": cents,
        "disbursed_cents": 0,
        "version": 1,
        "status": "ACTIVE",
        "updated_at": "2026-12-01T09:00:00Z",
    }


# What the other services answer the pages of issue 18, by path.
READS: dict[str, object] = {
    "/v1/objectives/miglio-blu/changes": {"items": [CUT_CHANGE, FIRST_COMMITMENT], "next_cursor": "older"},
    "/v1/funding-lines": {"items": [line(1, 300_000_000), line(2, 1_000)], "next_cursor": "page2"},
    "/v1/objectives/miglio-blu/indicators": [
        {
            "indicator_id": "posti-barca",
            "objective_id": "miglio-blu",
            "name": "Posti barca",
            "unit": "n",
            "direction": "UP",
            "description": None,
            "baseline": {"value": "100", "year": 2025},
            "targets": [
                {
                    "fiscal_year": 2027,
                    "value": "300",
                    "as_of": "2026-12-05",
                    "actual": None,
                    "progress": {"raw": "0.5", "clamped": "0.5", "reason": None},
                }
            ],
            "measurements": [{"measured_on": "2026-10-01", "value": "200", "source": None, "comment": None}],
        }
    ],
    "/v1/objectives/miglio-blu/milestones": [
        {
            "milestone_id": "gara",
            "objective_id": "miglio-blu",
            "title": "Gara d'appalto",
            "description": None,
            "due_on": "2026-06-30",
            "reached_on": None,
            "status": "OVERDUE",
            "as_of": "2026-12-05",
        }
    ],
    # The partners service's roles: the page shape another branch brings ({items, next_cursor}).
    "/v1/objectives/miglio-blu/roles": {
        "items": [
            {"partner_id": "comune-spezia", "role": "LEAD", "assigned_at": "2026-01-10T09:00:00Z"},
            {"partner_id": "regione-liguria", "role": "FUNDER", "assigned_at": "2026-02-01T09:00:00Z"},
        ],
        "next_cursor": None,
    },
    "/v1/partners/comune-spezia": {"partner_id": "comune-spezia", "name": "Comune della Spezia"},
}


class Stub(StubGateway):
    """The stub of the console's unit tests, with the reads issue 18 adds."""

    def __init__(self) -> None:
        super().__init__()
        self.objectives_answer: object = NEW_LIST
        self.summary_answer: object = SUMMARY
        self.poison = {
            "funding": [
                {
                    "id": 7,
                    "consumer": "funding.inbound",
                    "topic": "regia.funding.inbound.v1",
                    "partition": 0,
                    "offset": 42,
                    "key": "LIG-2027-001",
                    "error": "ValidationError: committed_cents must be an integer",
                    "value": '{"type":"FundingCommitted","payload":{"objective_id":"miglio-blu"}}',
                    "created_at": "2026-11-25T09:00:00+00:00",
                    "replayed_at": None,
                }
            ],
            "objectives": [],
            "partners": [],
        }

    async def get(self, service: str, path: str, token: str, **params: object):  # type: ignore[no-untyped-def]
        answer = READS.get(path)
        if path == "/v1/summary" and self.summary_answer is None:
            answer = None  # a service without the summary yet: 404, as below
        elif path == "/v1/summary":
            answer = self.summary_answer
        if answer is not None:
            self.asked.append((path, params))
            return answer
        if path == "/v1/plans/miglio":
            self.asked.append((path, params))
            return PLAN
        if path == "/v1/objectives" and "cursor" in params or path == "/v1/objectives" and "q" in params:
            self.asked.append((path, params))
            return self.objectives_answer
        if path == "/v1/objectives" and params.get("limit") == index.LEGACY_PAGE:
            self.asked.append((path, params))
            return self.objectives_answer
        if path == "/v1/objectives" and set(params) >= {"limit", "sort"}:
            self.asked.append((path, params))
            return self.objectives_answer
        if path == "/v1/ops/dead-letters":
            self.asked.append((service + path, params))
            if service == "notifier":
                raise __import__("regia_console.gateway", fromlist=["Unavailable"]).Unavailable("notifier down")
            return {"items": self.poison[service], "next_cursor": None}  # the services' one page shape
        if path == "/v1/partners/regione-liguria":
            return {"partner_id": "regione-liguria", "name": "Regione Liguria"}
        if path == "/v1/objectives/miglio-blu":  # with part of its year's money history (issue 19)
            document = await super().get(service, path, token, **params)
            document["years"][0]["history_cents"] = 50_000_000
            return document
        return await super().get(service, path, token, **params)

    async def post(self, service: str, path: str, token: str, body: dict):  # type: ignore[no-untyped-def]
        self.posts.append((service, path, body))
        if path == "/v1/ops/dead-letters/replay":
            return {"replayed": body.get("ids", [7]), "already_replayed": [], "unknown": []}
        return await super().post(service, path, token, body)


@pytest.fixture
def console() -> Iterator[TestClient]:
    settings = ConsoleSettings()
    app = create_app(settings, feed=StubFeed("unused:0", []))
    app.state.gateway = Stub()
    with TestClient(app) as client:
        answer = client.post("/login", data={"login": LOGIN, "password": PASSWORD, "next": "/"}, follow_redirects=False)
        assert answer.status_code == 303
        yield client


def rows_of(page: str) -> dict[str, str]:
    """The tree's rows by node id: each its own markup up to the next row."""
    found = {}
    for match in re.finditer(r'data-node="([^"]+)"', page):
        found[match.group(1)] = page[match.end() : match.end() + 3000].split("data-node=", 1)[0]
    return found


def test_each_tree_row_says_need_committed_gap_and_lead_computed_until_the_service_sends_them(
    console: TestClient,
) -> None:
    page = console.get("/plans/miglio?year=2027&lang=it").text
    rows = rows_of(page)
    cantieri = rows["cantieri"]
    # need € 9.000, committed € 3.000, 80 % of the need is € 7.200: € 4.200 to the threshold
    assert "€ 9.000,00" in cantieri and "€ 3.000,00" in cantieri and "€ 4.200,00" in cantieri
    assert "Capofila: comune-spezia" in cantieri
    banchine = rows["banchine"]
    # counted up to its need (€ 1.000), the € 3.005 beyond it written apart
    assert "€ 1.000,00" in banchine and 'data-surplus="300500"' in banchine and "+€ 3.005,00" in banchine
    assert 'id="kinds-legend"' in page and "Programma" in page and "Azione" in page


def test_the_service_figures_win_over_the_computed_ones() -> None:
    year = {"fiscal_year": 2027, "need_cents": 1000, "committed_cents": 800, "committed_by_level": {"EU": 1200}}
    mine = tree.figures_of({}, year, 80)
    assert mine is not None and (mine.committed_cents, mine.surplus_cents, mine.gap_to_threshold_cents) == (800, 0, 0)
    given = {**year, "surplus_cents": 400, "gap_to_threshold_cents": 5, "gap_to_full_cents": 7}
    theirs = tree.figures_of({}, given, 80)
    assert theirs is not None and (theirs.surplus_cents, theirs.gap_to_threshold_cents, theirs.gap_to_full_cents) == (
        400,
        5,
        7,
    )
    assert tree.figures_of({}, None, 80) is None


@pytest.mark.parametrize(
    ("query", "shown", "context"),
    [
        ("only_at_risk=true", {"cantieri"}, {"programma"}),
        ("lead=regione-liguria", {"banchine"}, {"programma"}),
        ("level=EU", {"banchine"}, {"programma"}),
        ("level=COMUNE", {"programma", "cantieri"}, set()),
    ],
)
def test_the_tree_filters_keep_the_matches_and_the_path_to_them(
    console: TestClient, query: str, shown: set[str], context: set[str]
) -> None:
    page = console.get(f"/plans/miglio?year=2027&{query}").text
    rows = rows_of(page)
    assert set(rows) == shown | context
    for node_id in context:
        assert re.search(
            rf'class="context"\s*data-node="{node_id}"|data-node="{node_id}"[^>]*class="context"', page
        ) or (f'data-node="{node_id}" class="context"' in page), node_id
    assert f'data-matched="{len(shown)}"' in page
    # The service is asked to filter and to keep one year: the console never asks for
    # every year of a 3,000-node tree.
    asked = [p for path, p in console.app.state.gateway.asked if path == "/v1/plans/miglio"][-1]
    key, value = query.split("=")
    assert asked["fiscal_year"] == 2027 and asked[key] == value, asked


def test_the_plan_page_asks_for_this_year_and_for_the_nearest_end_when_the_plan_does_not_cover_it(
    console: TestClient,
) -> None:
    gateway = console.app.state.gateway
    page = console.get("/plans/miglio")
    assert page.status_code == 200
    years = [p.get("fiscal_year") for path, p in gateway.asked if path == "/v1/plans/miglio"]
    # Asked for this year first, then (the stub's plan spans 2026-2027) its nearest end.
    assert years[0] == __import__("datetime").date.today().year and years[-1] in (2026, 2027)
    assert console.get("/plans/miglio?level=NOPE").status_code == 400


def test_a_bar_never_hides_a_funder_and_shows_money_past_the_need() -> None:
    segments, marker = charts.funding_segments({"REGIONE": 400_000, "EU": 500}, 100_000)
    assert [lv for lv, _, _ in segments] == ["REGIONE", "EU"]
    assert all(width >= charts.MIN_SEGMENT * 0.9 for _, _, width in segments)  # 0.1 % still drawn
    assert marker is not None and 24 < marker < 25  # the need is a quarter of what was committed
    svg = str(charts.funding_bar({"REGIONE": 400_000, "EU": 500}, 100_000, "400 %"))
    assert 'class="need-mark"' in svg and 'data-over="1"' in svg and 'class="lv-EU"' in svg
    under, none = charts.funding_segments({"COMUNE": 300, "REGIONE": 200}, 1000)
    assert none is None and under[-1][1] + under[-1][2] <= 51  # half the need: half the bar


def test_an_event_reads_as_who_did_what_to_which_objective() -> None:
    feed = EventFeed("unused:0", [])
    cut = {
        "type": "FundingRevised",
        "key": "miglio-blu",
        "occurred_at": "2026-11-25T10:00:00Z",
        "objective_id": "miglio-blu",
        "correlation_id": "c1",
        "status": "",
        "facts": {
            "objective_id": "miglio-blu",
            "institution_id": "regione-liguria",
            "line_id": "LIG-2027-001",
            "fiscal_year": 2027,
            "committed_cents": 300_000_000,
            "delta_cents": -150_000_000,
        },
    }
    status = {
        "type": "ObjectiveStatusChanged",
        "key": "miglio-blu",
        "occurred_at": "2026-11-25T10:00:01Z",
        "objective_id": "miglio-blu",
        "correlation_id": "c1",
        "status": "AT_RISK",
        "facts": {
            "objective_id": "miglio-blu",
            "title": "Il Miglio Blu",
            "fiscal_year": 2027,
            "status": "AT_RISK",
            "previous_status": "PARTIALLY_FUNDED",
            "coverage_bp": 6000,
        },
    }
    # The status change read first (the topics have no order between them): its cause is
    # attached when the funding change arrives.
    feed.add(status)
    assert "cause" not in status
    feed.add(cut)
    names = narration.Names(feed.titles, {"regione-liguria": "Regione Liguria"})
    assert narration.describe(status, "it", names) == (
        "Regione Liguria ridusse LIG-2027-001 di € 1.500.000,00 (da € 4.500.000,00 a € 3.000.000,00)"
        " — Il Miglio Blu 2027 ora A RISCHIO"
    )
    assert narration.describe(cut, "en", names) == (
        "Regione Liguria cut LIG-2027-001 by €1,500,000.00 (from €4,500,000.00 to €3,000,000.00) — Il Miglio Blu 2027"
    )
    assert narration.matches(status, "miglio-blu", "status", "regione-liguria")
    assert not narration.matches(cut, None, "alerts", None)
    assert not narration.matches(cut, None, None, "comune-spezia")


def test_the_events_page_words_each_event_and_filters_them(console: TestClient) -> None:
    feed = console.app.state.feed
    feed.add(
        {
            "type": "FundingCommitted",
            "key": "miglio-blu",
            "occurred_at": "2026-11-25T10:00:00Z",
            "objective_id": "miglio-blu",
            "correlation_id": "c0",
            "status": "",
            "facts": {
                "objective_id": "miglio-blu",
                "institution_id": "regione-liguria",
                "line_id": "LIG-2027-001",
                "fiscal_year": 2027,
                "committed_cents": 450_000_000,
                "delta_cents": 450_000_000,
            },
        }
    )
    feed.add({"type": "PartnerRegistered", "key": "x", "occurred_at": "2026-11-25T09:00:00Z", "objective_id": ""})
    page = console.get("/events?lang=it").text
    # the title and the institution's name asked of the services, once, and remembered
    assert "Regione Liguria impegnò € 4.500.000,00 sulla linea LIG-2027-001 — Il Miglio Blu &lt;b&gt; 2027" in page
    assert page.count("<li data-kind=") == 2
    funding_only = console.get("/events?kind=funding&institution=regione-liguria").text
    assert funding_only.count("<li data-kind=") == 1
    none = console.get("/events?objective=nothing&lang=en").text
    assert "No event matches the filters (2 events kept)" in none
    assert console.get("/events?kind=bogus").status_code == 400


def test_undelivered_alerts_and_poison_events_are_two_pages_named_so(console: TestClient) -> None:
    overview = console.get("/?lang=en").text
    assert '<a href="/dead-letters">Undelivered alerts</a>' in overview
    assert '<a href="/poison-events">Poison events</a>' in overview
    undelivered = console.get("/dead-letters?lang=en").text
    assert "<h1>Undelivered alerts</h1>" in undelivered and ">503<" in undelivered  # why
    poison = console.get("/poison-events?lang=it").text
    assert "<h1>Eventi scartati (poison events)</h1>" in poison
    funding = poison.split('id="poison-funding"', 1)[1].split("</section>", 1)[0]
    assert "FundingCommitted" in funding and "miglio-blu" in funding and "2026-11-25 09:00:00" in funding
    assert "committed_cents must be an integer" in funding and "funding.inbound" in funding
    assert "Nessun evento scartato da ripubblicare." in poison.split('id="poison-objectives"', 1)[1]
    assert "Il servizio non ha risposto" in poison.split('id="poison-notifier"', 1)[1]
    assert "Dati non disponibili" not in poison + undelivered
    csrf = poison.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    gateway = console.app.state.gateway
    forged = console.post("/poison-events/replay", data={"csrf": "x", "service": "funding", "id": "7"})
    assert forged.status_code == 403 and not gateway.posts
    done = console.post(
        "/poison-events/replay", data={"csrf": csrf, "service": "funding", "id": "7"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/poison-events?replayed=1"
    assert gateway.posts == [("funding", "/v1/ops/dead-letters/replay", {"ids": [7]})]
    bad = console.post("/poison-events/replay", data={"csrf": csrf, "service": "funding", "id": "x"})
    assert bad.status_code == 400 and len(gateway.posts) == 1
    assert console.post("/poison-events/replay", data={"csrf": csrf, "service": "ops", "all": "1"}).status_code == 400


def test_overview_counts_are_scoped_to_a_year_and_link_to_the_filtered_index(console: TestClient) -> None:
    page = console.get("/?year=2027&lang=en").text
    assert 'href="/objectives?status=AT_RISK&amp;fiscal_year=2027"' in page
    at_risk = page.split('data-status="AT_RISK">', 1)[1].split("</a>", 1)[0]
    assert "<strong>1</strong>" in at_risk
    funded = page.split('data-status="FUNDED">', 1)[1].split("</a>", 1)[0]
    assert "<strong>0</strong>" in funded  # the two funded ones are 2026's
    money = page.split('id="year-money"', 1)[1].split("</section>", 1)[0]
    assert 'data-figure="need">€5,000,000.00' in money and 'data-figure="committed">€3,000,000.00' in money
    assert "Region €3,000,000.00" in money or "Regione €3,000,000.00" in money, money
    other_year = console.get("/?year=2026&lang=en").text
    assert "<strong>2</strong>" in other_year.split('data-status="FUNDED">', 1)[1].split("</a>", 1)[0]
    assert 'id="search"' in page and 'action="/objectives"' in page
    chart = page.split('id="funding-chart"', 1)[1].split("</svg>", 1)[0]
    assert 'class="tick"' in chart and ">€0<" in chart and ">€3M<" in chart  # axis and the bar's value
    assert 'class="year"' in chart and ">2027<" in chart
    assert 'id="no-summary"' not in page


def test_the_overview_reads_the_summary_and_one_page_at_risk_never_the_whole_list(console: TestClient) -> None:
    gateway = console.app.state.gateway
    console.app.state.feed.names["regione-liguria"] = "Regione Liguria"
    page = console.get("/?year=2027&lang=it").text
    listing = [p for path, p in gateway.asked if path == "/v1/objectives"]
    # One request of the list: the at-risk page, largest gap first; the counts and money
    # come from the summary, asked once.
    assert listing == [{"status": "AT_RISK", "fiscal_year": 2027, "sort": "gap", "limit": 20}]
    assert [path for path, _ in gateway.asked].count("/v1/summary") == 1
    row = page.split('<tr data-objective="miglio-blu" data-year="2027" data-gap-cents="100000000">', 1)[1].split(
        "</tr>", 1
    )[0]
    for figure in ("€ 5.000.000,00", "€ 3.000.000,00", "€ 1.000.000,00", "€ 2.000.000,00", "2026-11-25"):
        assert figure in row, figure
    assert 'data-gap="threshold">€ 1.000.000,00' in row and 'data-gap="full">€ 2.000.000,00' in row
    assert 'data-level="REGIONE" data-cents="300000000">Regione € 3 Mln' in row  # figures by level
    assert "Regione Liguria · <code>LIG-2027-001</code>" in row
    assert "€ 4.500.000,00 → € 3.000.000,00" in row and "«Assestamento di bilancio»" in row
    assert "Comune della Spezia" in row  # the lead, by name
    # The stub notifier's one delivery ("SENT" is no status it has) is not a delivery
    # since the objective went at risk: nobody was told.
    assert 'data-told="nobody"' in row and "Nessuno avvisato" in row
    assert 'id="all-at-risk"' in page and "sort=gap" in page


def test_whether_anyone_was_told_reads_the_notifier_in_either_shape() -> None:
    since = "2026-11-25T10:00:00+00:00"
    delivered = {
        "created_at": "2026-11-25T10:01:00",
        "finished_at": "2026-11-25T10:01:30",
        "status": "DELIVERED",
        "recipient": "a@b.example",
        "recipient_name": "Ufficio di piano",
        "channel": "email",
    }
    old = {**delivered, "created_at": "2026-10-01T09:00:00"}
    assert overview.told([delivered], since) == overview.Told(
        "told", "Ufficio di piano", "email", "2026-11-25 10:01", 1
    )
    assert overview.told([old], since).state == "nobody" and overview.told([old], since).earlier == "2026-10-01"
    assert overview.told([{**delivered, "status": "DEAD"}], since).state == "failed"
    assert overview.told([{**delivered, "status": "PENDING"}], since).state == "sending"
    assert overview.told(None, since).state == "unknown"
    # The notifier's answer today is a list; another branch makes it a page: both read.
    assert listed([delivered]) == ([delivered], None)
    assert listed({"items": [delivered], "next_cursor": "n"}) == ([delivered], "n")
    assert listed({"objective_id": "x", "roles": [delivered]}, key="roles") == ([delivered], None)
    assert listed("nope") == (None, None)


def test_without_a_summary_the_overview_says_so_and_counts_one_page_per_status(console: TestClient) -> None:
    gateway = console.app.state.gateway
    gateway.summary_answer = None  # GET /v1/summary answers 404
    page = console.get("/?year=2027&lang=en")
    assert page.status_code == 200
    assert 'id="no-summary"' in page.text and "GET /v1/summary" in page.text
    listing = [p for path, p in gateway.asked if path == "/v1/objectives"]
    statuses = sorted(str(p.get("status")) for p in listing)
    assert statuses == sorted(["AT_RISK", "AT_RISK", "UNFUNDED", "PARTIALLY_FUNDED", "FUNDED", "NO_NEED"])
    assert all(p.get("limit") in (20, 100) and p.get("fiscal_year") == 2027 for p in listing)
    # Funding's totals still give the committed money; the need is not known.
    money = page.text.split('id="year-money"', 1)[1].split("</section>", 1)[0]
    assert 'data-figure="committed">€3,000,000.00' in money and 'data-figure="need">–' in money


def test_the_objective_page_says_what_changed_and_pages_its_lines(console: TestClient) -> None:
    gateway = console.app.state.gateway
    console.app.state.feed.names["regione-liguria"] = "Regione Liguria"
    page = console.get("/objectives/miglio-blu?lang=it")
    assert page.status_code == 200
    text = page.text
    box = text.split('id="what-changed"', 1)[1].split("</section>", 1)[0]
    assert text.index('id="what-changed"') < text.index('id="years"')  # on top
    first, second = box.split("<li ")[1:3]
    assert "Regione Liguria ridusse la linea LIG-2027-001 da € 4.500.000,00 a € 3.000.000,00 (−€ 1.500.000,00)" in first
    assert "«Assestamento di bilancio»" in first and "2026-12-05 10:14" in first and ">2027<" in first
    assert "Regione Liguria impegnò € 4.500.000,00 sulla linea LIG-2027-001" in second
    lines = text.split('id="lines-table"', 1)[1].split("</table>", 1)[0]
    assert lines.count("<tr data-line=") == 2 and "J12345678901234" in lines and "€ 3.000.000,00" in lines
    years = text.split('id="years"', 1)[1].split("</table>", 1)[0]
    assert "di cui storico € 500.000,00" in years  # the closed year's money the committed figure holds
    first_line, second_line = lines.split("<tr data-line=")[1:3]
    assert "1LIFESR-4.1.1-0007 · In corso" in first_line and "history-badge" not in first_line
    assert 'class="badge history-badge"' in second_line and ">storico<" in second_line  # a closed year's money
    assert 'id="lines-next"' in text and "cursor=page2" in text and "page=2" in text
    assert 'data-sort-link="committed"' in text and "sort=-committed" in text
    subtotals = text.split('id="subtotals"', 1)[1].split("</section>", 1)[0]
    assert "2027: Regione € 3.000.000,00 (88.678 linee); in tutto € 3.000.000,00." in subtotals, subtotals
    roles = text.split('id="roles"', 1)[1].split("</section>", 1)[0]
    assert "Capofila</strong>: Comune della Spezia" in roles and "Finanziatore</strong>: Regione Liguria" in roles
    assert "Posti barca" in text and "50.0 %" in text and "Gara d&#39;appalto" in text and "scaduto" in text
    assert "Dati non disponibili" not in text and "non ha risposto" not in text.split('id="alerts"')[0]
    # Filters and order go to funding as asked; the next page carries the cursor.
    console.get("/objectives/miglio-blu?fiscal_year=2027&level=REGIONE&institution_id=regione-liguria&sort=-committed")
    asked = [p for path, p in gateway.asked if path == "/v1/funding-lines"][-1]
    assert asked == {
        "objective_id": "miglio-blu",
        "limit": 50,
        "fiscal_year": 2027,
        "level": "REGIONE",
        "institution_id": "regione-liguria",
        "sort": "-committed",
    }
    console.get("/objectives/miglio-blu?sort=-committed&cursor=page2&page=2")
    assert [p for path, p in gateway.asked if path == "/v1/funding-lines"][-1]["cursor"] == "page2"
    assert console.get("/objectives/miglio-blu?sort=amount").status_code == 400
    assert console.get("/objectives/miglio-blu?level=CITY").status_code == 400


def test_a_change_is_worded_from_what_it_did_to_the_line() -> None:
    names = {"regione-liguria": "Regione Liguria"}.get
    raised = CUT_CHANGE | {"delta_cents": 50_000, "committed_before_cents": 100_000, "committed_after_cents": 150_000}
    assert objective_view.change_sentence(raised, "en", lambda i: names(i) or i) == (
        "Regione Liguria raised line LIG-2027-001 from €1,000.00 to €1,500.00 (+€500.00)"
    )
    paid = CUT_CHANGE | {"kind": "FundingDisbursed", "delta_cents": 0, "disbursed_after_cents": 20_000}
    assert objective_view.change_kind(paid) == "paid"
    assert objective_view.change_kind(CUT_CHANGE | {"kind": "BACKFILL"}) == "backfill"
    assert objective_view.change_kind(CUT_CHANGE | {"kind": "FundingRevoked"}) == "revoked"
    rows = objective_view.level_subtotals(
        {
            "committed_by_level": {"REGIONE": 300, "EU": 500},
            "by_institution": [
                {"institution_id": "a", "level": "EU", "committed_cents": 500, "disbursed_cents": 7, "line_count": 2},
                {
                    "institution_id": "b",
                    "level": "REGIONE",
                    "committed_cents": 200,
                    "disbursed_cents": 0,
                    "line_count": 1,
                },
                {
                    "institution_id": "c",
                    "level": "REGIONE",
                    "committed_cents": 100,
                    "disbursed_cents": 1,
                    "line_count": 1,
                },
            ],
        }
    )
    assert [(r.level, r.committed_cents, r.disbursed_cents, r.line_count, r.institutions) for r in rows] == [
        ("EU", 500, 7, 2, 1),
        ("REGIONE", 300, 1, 2, 2),
    ]


def test_the_objectives_index_reads_the_filtered_pages(console: TestClient) -> None:
    gateway = console.app.state.gateway
    page = console.get("/objectives?status=AT_RISK&fiscal_year=2027&q=miglio&lang=it")
    assert page.status_code == 200
    asked = [p for path, p in gateway.asked if path == "/v1/objectives"][-1]
    assert asked == {"limit": 50, "status": "AT_RISK", "fiscal_year": 2027, "q": "miglio", "sort": "gap"}
    row = page.text.split('<tr data-objective="miglio-blu" data-year="2027">', 1)[1].split("</tr>", 1)[0]
    for figure in ("€ 5.000.000,00", "€ 3.000.000,00", "€ 1.000.000,00", "€ 2.000.000,00", "2026-11-25"):
        assert figure in row, figure
    assert "regione-liguria · LIG-2027-001 · -€ 1.500.000,00" in row and "Assestamento di bilancio" in row
    assert 'id="next-page"' in page.text and "cursor=abc" in page.text
    assert "legacy-list" not in page.text
    assert console.get("/objectives?status=LOST").status_code == 400


def test_the_objectives_index_says_so_when_the_service_answers_the_old_list(console: TestClient) -> None:
    gateway = console.app.state.gateway
    gateway.objectives_answer = [
        {
            "objective_id": "miglio-blu",
            "title": "Il Miglio Blu",
            "years": [{"fiscal_year": 2027, "status": "AT_RISK", "coverage_bp": 6000}],
        },
        {
            "objective_id": "porto",
            "title": "Porto",
            "years": [{"fiscal_year": 2027, "status": "UNFUNDED", "coverage_bp": 0}],
        },
    ]
    page = console.get("/objectives?status=AT_RISK&fiscal_year=2027&lang=en")
    assert page.status_code == 200
    assert 'id="legacy-list"' in page.text and "does not filter yet" in page.text and "2 objectives read" in page.text
    assert 'data-objective="miglio-blu"' in page.text and 'data-objective="porto"' not in page.text
    assert 'id="next-page"' not in page.text


def test_people_and_plans_events_read_as_sentences_too() -> None:
    names = narration.Names({"miglio-blu": "Il Miglio Blu"}, {"comune-spezia": "Comune della Spezia"})
    lead = {
        "type": "ObjectiveLeadAssigned",
        "objective_id": "miglio-blu",
        "facts": {"objective_id": "miglio-blu", "partner_id": "comune-spezia"},
    }
    joined = {
        "type": "NetworkMemberJoined",
        "objective_id": "",
        "facts": {"partner_id": "comune-spezia", "network_id": "rete-lavoro"},
    }
    assert narration.describe(lead, "it", names) == "Il Miglio Blu: Comune della Spezia è il nuovo capofila"
    assert narration.describe(joined, "en", names) == "Comune della Spezia joined the network rete-lavoro"
    unknown = {"type": "SomethingNew", "key": "k1", "objective_id": "", "facts": {}}
    assert narration.describe(unknown, "en", names) == "SomethingNew (k1)"


def test_the_old_list_has_no_need_so_its_gaps_read_as_a_dash_not_zero(console: TestClient) -> None:
    gateway = console.app.state.gateway
    gateway.objectives_answer = [
        {
            "objective_id": "miglio-blu",
            "title": "Il Miglio Blu",
            "years": [{"fiscal_year": 2027, "status": "AT_RISK", "coverage_bp": 6000}],
        }
    ]
    page = console.get("/objectives?lang=en").text
    row = page.split('<tr data-objective="miglio-blu" data-year="2027">', 1)[1].split("</tr>", 1)[0]
    assert "€0.00" not in row and row.count(">–<") >= 4


def test_what_just_went_at_risk_is_on_top_whichever_year_is_shown(console: TestClient) -> None:
    """The live feed saw miglio-blu go at risk (in 2027): the overview of 2026 still shows
    it first, marked so, since the administrator opened the console because of it."""
    console.app.state.feed.went_at_risk["miglio-blu"] = __import__("time").time()
    page = console.get("/?year=2026&lang=en").text
    first = page.split('id="at-risk"', 1)[1].split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert 'data-objective="miglio-blu" data-year="2027"' in first and 'data-recent="1"' in first
    assert "just now" in first
