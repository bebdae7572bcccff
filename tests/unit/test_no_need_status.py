"""NO_NEED, a year with no need declared (issue 17), as every consumer of the status reads
it: the annual review's counts, the objectives' gauges, the notifier's idea of worsening and
its Italian words."""

from dataclasses import replace

from regia_notifier.domain.messages.wording import status_label
from regia_notifier.domain.occurrences import StatusChange
from regia_objectives.adapters.metrics import by_status
from regia_objectives.domain.coverage import Allocation, year_coverage
from regia_objectives.domain.review import snapshot, summary
from regia_objectives.domain.tree import Node, NodeKind, Plan
from regia_shared.contracts.events.objectives import CoverageStatus as S

PLAN = Plan("p", "Piano", "La Spezia", None, 2026, 2028)


def test_the_review_counts_nodes_with_no_need_apart_from_the_funded() -> None:
    nodes = [
        Node("v", "p", None, NodeKind.VISION, "Visione"),
        Node("a", "p", "v", NodeKind.OBJECTIVE, "Con fabbisogno"),
        Node("b", "p", "v", NodeKind.OBJECTIVE, "Senza fabbisogno, con soldi"),
        Node("c", "p", "v", NodeKind.OBJECTIVE, "Senza riga di copertura"),
    ]
    coverage = {
        "v": year_coverage("v", 2027, 100_00, 80, [Allocation("EU", 150_00, 0)]),
        "a": year_coverage("a", 2027, 100_00, 80, [Allocation("EU", 100_00, 0)]),
        "b": year_coverage("b", 2027, 0, 80, [Allocation("EU", 50_00, 0)]),
    }
    items = snapshot(PLAN, 2027, nodes, coverage)
    assert [i.status for i in items] == ["FUNDED", "FUNDED", "NO_NEED", "NO_NEED"]
    assert summary(items)["nodes_by_status"] == {
        "FUNDED": 2,
        "PARTIALLY_FUNDED": 0,
        "AT_RISK": 0,
        "UNFUNDED": 0,
        "NO_NEED": 2,
    }


def test_the_gauges_have_a_no_need_series_for_every_year() -> None:
    values = by_status([("FUNDED", 2027, 3), ("NO_NEED", 2028, 2)])
    assert values[("NO_NEED", "2027")] == 0.0 and values[("NO_NEED", "2028")] == 2.0


CHANGE = StatusChange("o", "Obiettivo", 2027, S.UNFUNDED, S.NO_NEED, 10_000, 0, 0, 80)


def test_a_move_to_no_need_is_never_a_worsening() -> None:
    for before in (None, *S):
        assert not replace(CHANGE, previous_status=before).worsened, before
    # Declaring a need nobody has funded yet is, as it was from a zero need before.
    assert replace(CHANGE, previous_status=S.NO_NEED, status=S.UNFUNDED).worsened
    assert replace(CHANGE, previous_status=S.NO_NEED, status=S.AT_RISK).worsened
    assert not replace(CHANGE, previous_status=S.NO_NEED, status=S.FUNDED).worsened


def test_the_notifier_has_words_for_it() -> None:
    assert status_label(S.NO_NEED, "it") == "SENZA FABBISOGNO"
    assert status_label(S.NO_NEED, "en")
