"""The annual review (*punto della situazione*): what a plan's year looked like when it
closed, and how two closed years compare. Pure: the snapshot is built from what the
adapters read, never from a clock or a database."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from regia_shared.contracts.events.objectives import CoverageStatus

from .coverage import FULL_BP, YearCoverage, coverage_bp, status_of
from .tree import Node, Plan


@dataclass(frozen=True)
class ReviewItem:
    node_id: str
    parent_id: str | None
    kind: str
    title: str
    position: int
    need_cents: int
    committed_cents: int
    disbursed_cents: int
    committed_by_level: dict[str, int]
    coverage_bp: int
    status: str
    indicators: list[dict[str, object]] = field(default_factory=list)
    history_cents: int = 0  # the part of committed_cents recorded as history (a closed year's money)


def snapshot(
    plan: Plan,
    year: int,
    nodes: Sequence[Node],
    coverage: Mapping[str, YearCoverage],
    indicators: Mapping[str, list[dict[str, object]]] | None = None,
) -> list[ReviewItem]:
    """Every node of the plan for the year; a node with no coverage row needed nothing and
    got nothing (it is NO_NEED)."""
    items = []
    # `nodes` come in tree order (parents first, siblings by position); the review keeps
    # that order as each item's position, so every export reads as the tree does.
    for order, node in enumerate(nodes):
        c = coverage.get(node.node_id)
        need, committed = (c.need_cents, c.committed_cents) if c else (0, 0)
        items.append(
            ReviewItem(
                node.node_id,
                node.parent_id,
                node.kind.value,
                node.title,
                order,
                need,
                committed,
                c.disbursed_cents if c else 0,
                dict(c.committed_by_level) if c else {},
                coverage_bp(need, committed),
                status_of(need, committed, plan.at_risk_threshold_pct).value,
                list((indicators or {}).get(node.node_id, [])),
                c.history_cents if c else 0,
            )
        )
    return items


def summary(items: Sequence[ReviewItem]) -> dict[str, object]:
    """The plan's own figures (its roots added up) and how many nodes are in each status."""
    roots = [i for i in items if i.parent_id is None]
    need = sum(i.need_cents for i in roots)
    committed = sum(i.committed_cents for i in roots)
    by_status = {s.value: 0 for s in CoverageStatus}
    for item in items:
        by_status[item.status] += 1
    return {
        "need_cents": need,
        "committed_cents": committed,
        "disbursed_cents": sum(i.disbursed_cents for i in roots),
        "history_cents": sum(i.history_cents for i in roots),
        "coverage_bp": coverage_bp(need, committed) if need else FULL_BP,
        "nodes_by_status": by_status,
    }


def compare(earlier: Sequence[ReviewItem], later: Sequence[ReviewItem]) -> list[dict[str, object]]:
    """Node by node, what moved between two closed years (nodes in either review)."""
    before = {i.node_id: i for i in earlier}
    after = {i.node_id: i for i in later}
    rows: list[dict[str, object]] = []
    for node_id in list(dict.fromkeys([*after, *before])):
        a, b = before.get(node_id), after.get(node_id)
        shown = after[node_id] if node_id in after else before[node_id]  # the later review's, if it has the node
        rows.append(
            {
                "node_id": node_id,
                "title": shown.title,
                "kind": shown.kind,
                "need_delta_cents": (b.need_cents if b else 0) - (a.need_cents if a else 0),
                "committed_delta_cents": (b.committed_cents if b else 0) - (a.committed_cents if a else 0),
                "disbursed_delta_cents": (b.disbursed_cents if b else 0) - (a.disbursed_cents if a else 0),
                "coverage_bp": [a.coverage_bp if a else None, b.coverage_bp if b else None],
                "status": [a.status if a else None, b.status if b else None],
                "status_changed": (a.status if a else None) != (b.status if b else None),
            }
        )
    return rows
