"""The pure parts of the metrics: bounded labels, lag arithmetic, gauge swaps, figures."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from regia_notifier.adapters.metrics import since_origin
from regia_objectives.adapters.metrics import by_status, plan_figures
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.partners import ObjectiveLeadAssigned
from regia_shared.observability.metrics_consumer import tally, type_label
from regia_shared.observability.metrics_lag import lag
from regia_shared.observability.metrics_refresh import refresh_once, replace_children


def test_an_event_type_outside_the_contract_is_unknown() -> None:
    assert type_label("FundingCommitted") == "FundingCommitted"
    assert type_label("DropTable; a fresh id 42") == "unknown"
    assert type_label(None) == "unknown"


def test_tally_groups_records_by_topic_type_and_outcome() -> None:
    counted = tally("ignored", [("t", "FundingCommitted"), ("t", "FundingCommitted"), ("t", "x-1")])
    assert counted == {("t", "FundingCommitted", "ignored"): 2, ("t", "unknown", "ignored"): 1}


def test_lag_sums_partitions_and_reads_uncommitted_ones_from_their_start() -> None:
    end, start = {0: 10, 1: 5, 2: 7}, {0: 0, 1: 2, 2: 0}
    assert lag([0, 1, 2], end, start, {0: 10, 1: -1, 2: 4}) == 0 + 3 + 3
    assert lag([0, 1, 2], end, start, {0: 12}) == 0 + 3 + 7  # never negative


def test_replace_children_drops_label_sets_that_vanished() -> None:
    registry = CollectorRegistry()
    gauge = Gauge("g", "test", ["k"], registry=registry)
    replace_children(gauge, {("a",): 1.0, ("b",): 2.0})
    replace_children(gauge, {("b",): 3.0})
    text = generate_latest(registry).decode()
    assert 'g{k="b"} 3.0' in text and 'k="a"' not in text


def test_a_failing_refresh_keeps_the_last_values_and_the_others_run() -> None:
    registry = CollectorRegistry()
    gauge = Gauge("g", "test", ["k"], registry=registry)
    replace_children(gauge, {("a",): 1.0})
    ran = []

    async def broken() -> None:
        raise ConnectionError("database restarting")

    async def fine() -> None:
        ran.append(True)

    assert asyncio.run(refresh_once(None, [], [broken, fine])) == 1  # type: ignore[arg-type]
    assert ran and 'g{k="a"} 1.0' in generate_latest(registry).decode()


def test_every_status_shows_for_every_year_seen() -> None:
    values = by_status([("FUNDED", 2027, 3)])
    assert values[("FUNDED", "2027")] == 3 and values[("AT_RISK", "2027")] == 0
    assert len(values) == 5  # the five statuses, NO_NEED among them


def test_plan_figures_are_euros_by_plan_year_and_level() -> None:
    need, committed = plan_figures(
        [
            {
                "plan_id": "p",
                "fiscal_year": 2027,
                "need_cents": 150,
                "committed_by_level": json.dumps({"REGIONE": 100, "STATO": 5}),
            }
        ]
    )
    assert need == {("p", "2027"): 1.5}
    assert committed == {("p", "2027", "REGIONE"): 1.0, ("p", "2027", "STATO"): 0.05}


def test_plan_figures_sum_every_root_of_a_plan() -> None:
    # Issue 18: the 2008 plan has several roots; the gauge kept one of them (€15.31M).
    def root(plan: str, need: int, by_level: dict[str, int], year: int = 2008) -> dict:
        return {"plan_id": plan, "fiscal_year": year, "need_cents": need, "committed_by_level": json.dumps(by_level)}

    need, committed = plan_figures(
        [
            root("p2008", 1_531_000_000, {"REGIONE": 1_000_000_000}),
            root("p2008", 5_649_000_000, {"REGIONE": 200_000_000, "STATO": 300_000_000}),
            root("p2008", 10, {}, year=2009),
            root("other", 7, {"COMUNE": 3}),
        ]
    )
    assert need == {("p2008", "2008"): 71_800_000.0, ("p2008", "2009"): 0.1, ("other", "2008"): 0.07}
    assert committed == {
        ("p2008", "2008", "REGIONE"): 12_000_000.0,
        ("p2008", "2008", "STATO"): 3_000_000.0,
        ("other", "2008", "COMUNE"): 0.03,
    }


def test_time_since_origin_is_never_negative_and_none_without_an_origin() -> None:
    now = datetime.now(UTC)
    assert since_origin(now - timedelta(seconds=2), now) == 2
    assert since_origin(now + timedelta(seconds=1), now) == 0
    assert since_origin(None, now) is None


def test_an_envelope_without_origin_at_still_parses_and_starts_its_own_chain() -> None:
    event = Envelope.wrap(ObjectiveLeadAssigned(objective_id="o", partner_id="p"), key="o", producer="t")
    old = event.model_dump(mode="json")
    del old["origin_at"]
    parsed = Envelope.model_validate(old)
    assert parsed.origin_at is None and parsed.origin == parsed.occurred_at
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    chained = Envelope.wrap(
        ObjectiveLeadAssigned(objective_id="o", partner_id="p"), key="o", producer="t", origin_at=origin
    )
    assert Envelope.model_validate_json(chained.to_json()).origin == origin
