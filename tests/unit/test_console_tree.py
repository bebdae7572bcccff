"""The plan tree: at-risk nodes first among siblings, the overview's ranking, and a page
of thousands of nodes rendered fast."""

import time

from regia_console import overview, tree


def year(status: str, bp: int = 0, fiscal_year: int = 2027) -> dict:
    return {
        "fiscal_year": fiscal_year,
        "status": status,
        "coverage_bp": bp,
        "need_cents": 100,
        "committed_cents": bp // 100,
        "committed_by_level": {"COMUNE": bp // 100},
    }


def node(node_id: str, status: str | None, children: list | None = None) -> dict:
    return {
        "node_id": node_id,
        "title": node_id,
        "kind": "OBJECTIVE",
        "years": [year(status)] if status else [],
        "children": children or [],
    }


def test_at_risk_siblings_come_first_then_the_plan_order() -> None:
    built = tree.build(
        [node("a", "FUNDED"), node("b", "UNFUNDED"), node("c", "AT_RISK"), node("d", "FUNDED"), node("e", None)], 2027
    )
    assert [n.node_id for n in built] == ["c", "b", "a", "d", "e"]


def test_a_parent_with_trouble_below_comes_before_an_equal_sibling() -> None:
    built = tree.build([node("calm", "UNFUNDED"), node("worried", "UNFUNDED", [node("x", "AT_RISK")])], 2027)
    assert [n.node_id for n in built] == ["worried", "calm"]
    assert built[0].at_risk_below == 1 and tree.count(built) == 3


def test_the_default_year_is_this_year_within_the_plan() -> None:
    assert tree.default_year(2019, 2027, 2026) == 2026
    assert tree.default_year(2001, 2007, 2026) == 2007
    assert tree.default_year(2030, 2035, 2026) == 2030


def test_the_overview_lists_the_objective_just_gone_at_risk_first() -> None:
    """The feed's newest at-risk objectives first, then the service's gap order, each
    objective-year once; only the year asked for, and only when it is AT_RISK."""
    by_gap = overview.at_risk_rows(
        [
            {"objective_id": "low", "years": [year("AT_RISK", 1000)]},
            {"objective_id": "new", "years": [year("AT_RISK", 7000), year("FUNDED", 10000, 2026)]},
            {"objective_id": "fine", "years": [year("FUNDED", 10000)]},
        ],
        2027,
    )
    assert [r.objective_id for r in by_gap] == ["low", "new"]
    recent = overview.newest_first({"old": time.time() - 60, "new": time.time()})
    assert recent == ["new", "old"]
    pinned = overview.at_risk_rows([{"objective_id": "new", "years": [year("AT_RISK", 7000)]}], 2027, recent)
    merged = overview.merge(pinned, by_gap)
    assert [(r.objective_id, r.recent) for r in merged] == [("new", True), ("low", False)]
    assert overview.at_risk_rows([{"objective_id": "new", "years": [year("AT_RISK", 7000)]}], 2026) == []


def test_a_year_with_no_need_comes_after_a_funded_one_and_is_counted_on_its_own() -> None:
    """Issue 17: NO_NEED is no trouble, and no funding either: last, with the nodes that
    have no figures for the year, and never among the funded in the overview's counts."""
    built = tree.build([node("none", "NO_NEED"), node("funded", "FUNDED"), node("nothing", None)], 2027)
    assert [n.node_id for n in built] == ["funded", "none", "nothing"]
    summary = {
        "fiscal_years": [2027, 2028],
        "by_year": [
            {"fiscal_year": 2027, "counts": {"NO_NEED": 2, "FUNDED": 1}},
            {"fiscal_year": 2028, "counts": {"UNFUNDED": 1}},
        ],
    }
    assert overview.summary_years(summary) == [2027, 2028]
    counts = overview.summary_for(summary, 2027).counts
    assert counts == {"AT_RISK": 0, "UNFUNDED": 0, "PARTIALLY_FUNDED": 0, "FUNDED": 1, "NO_NEED": 2}
