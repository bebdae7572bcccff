"""The plan tree as the console shows it: each node with one year's coverage, and at-risk
nodes first among their siblings, so the eye finds trouble without opening everything.
Pure: it takes the objectives service's tree (GET /v1/plans/{id}) and returns view rows."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Trouble first: money promised and then cut below the threshold is the news; nothing
# promised yet is the usual state of a plan's far years; a year with no need declared is
# nothing to fund, last (with nodes that have no figures for the year at all).
STATUS_RANK = {"AT_RISK": 0, "UNFUNDED": 1, "PARTIALLY_FUNDED": 2, "FUNDED": 3, "NO_NEED": 4}
NO_STATUS_RANK = len(STATUS_RANK)


@dataclass
class TreeNode:
    node_id: str
    title: str
    kind: str
    lead: str | None
    year: Mapping | None  # the node's coverage in the chosen year (its subtree's), if any
    children: list["TreeNode"] = field(default_factory=list)
    at_risk_below: int = 0  # at-risk nodes in its subtree, itself included

    @property
    def status(self) -> str | None:
        return self.year.get("status") if self.year else None


def rank(status: str | None) -> int:
    return STATUS_RANK.get(status or "", NO_STATUS_RANK)


def year_of(years: Sequence[Mapping] | None, fiscal_year: int) -> Mapping | None:
    return next((y for y in years or [] if isinstance(y, Mapping) and y.get("fiscal_year") == fiscal_year), None)


def build(nodes: Sequence[Mapping], fiscal_year: int) -> list[TreeNode]:
    """View nodes, siblings ordered by status (at risk first) and then as the plan has them."""
    built = []
    for raw in nodes:
        if not isinstance(raw, Mapping) or not raw.get("node_id"):
            continue  # not a node: nothing to show or link to
        node = TreeNode(
            str(raw["node_id"]),
            str(raw.get("title") or ""),
            str(raw.get("kind") or ""),
            raw.get("lead"),
            year_of(raw.get("years"), fiscal_year),
            build(raw.get("children") or [], fiscal_year),
        )
        node.at_risk_below = (node.status == "AT_RISK") + sum(c.at_risk_below for c in node.children)
        built.append(node)
    # sorted() is stable: equal ranks keep the plan's own order
    return sorted(built, key=lambda n: (rank(n.status), -n.at_risk_below))


def count(nodes: Sequence[TreeNode]) -> int:
    return sum(1 + count(n.children) for n in nodes)


def default_year(first_year: int, last_year: int, this_year: int) -> int:
    """This year when the plan covers it, else the plan's nearest end."""
    return min(max(this_year, first_year), last_year)
