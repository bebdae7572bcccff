"""The 2008 plan's history money in the demo: every objective-year has some, from plausible
sources, marked illustrative, in a mix of statuses, and each request is valid for the
funding service and the same on every run."""

from collections import Counter

from regia.operator.demo import PARTNERS as QUICK_START_PARTNERS
from regia.operator.demo_history import (
    ILLUSTRATIVE,
    INSTRUMENTS,
    PARTNERS,
    PLAN_FILE,
    history_lines,
    plan_objectives,
    submissions,
)
from regia_funding.entrypoints.events_http import BulkImport
from regia_objectives.adapters.planfile import demo_plans, read_plan
from regia_objectives.domain.coverage import status_of
from regia_partners.domain.commands import RegisterPartner


def test_every_objective_year_of_the_2008_plan_has_money_in_a_mix_of_statuses() -> None:
    plan = read_plan(demo_plans()[PLAN_FILE]).plan
    committed: Counter[tuple[str, int]] = Counter()
    for line in history_lines():
        committed[line.objective_id, line.fiscal_year] += line.committed_cents
    statuses: Counter[tuple[int, str]] = Counter()
    for objective in plan_objectives():
        for year, need in objective.needs.items():
            assert committed[objective.node_id, year] > 0, (objective.node_id, year)
            statuses[year, status_of(need, committed[objective.node_id, year], plan.at_risk_threshold_pct)] += 1
    for year in range(2008, 2012):
        assert {status for (y, status), n in statuses.items() if y == year and n >= 5} == {
            "FUNDED",
            "PARTIALLY_FUNDED",
            "AT_RISK",
        }, statuses


def test_each_line_says_its_amount_is_illustrative_and_pays_no_more_than_it_commits() -> None:
    lines = history_lines()
    assert len({line.line_id for line in lines}) == len(lines)
    for line in lines:
        assert line.reason.endswith(ILLUSTRATIVE) and line.source.channel.startswith("history:")
        assert 0 < line.disbursed_cents <= line.committed_cents
        assert line.source.instrument_id in {i["instrument_id"] for i in INSTRUMENTS}
    levels = {p["partner_id"]: p["level"] for p in PARTNERS + QUICK_START_PARTNERS}
    by_level = Counter(levels[line.source.institution_id] for line in lines)
    assert set(by_level) == {"EU", "STATO", "REGIONE", "COMUNE"}


def test_the_bulk_requests_are_valid_and_the_same_on_every_run() -> None:
    first, second = list(submissions()), list(submissions())
    assert first == second
    keys = [s["idempotency_key"] for _, sent in first for s in sent]
    assert len(set(keys)) == len(keys)
    for channel, sent in first:
        BulkImport.model_validate({"channel": channel, "submissions": sent})
    assert sum(len(s["events"]) for _, sent in first for s in sent) == 2 * len(history_lines())
    for partner in PARTNERS:
        assert RegisterPartner.model_validate(partner).territory
