"""The plan tree as the console shows it: each node with one year's coverage, and at-risk
nodes first among their siblings, so the eye finds trouble without opening everything.
Pure: it takes the objectives service's tree (GET /v1/plans/{id}) and returns view rows."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import ceil

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
    figures: "Figures | None" = None  # need, committed, gap… in the chosen year
    shown: bool = True  # False: kept only as the path to a node the filters match

    @property
    def status(self) -> str | None:
        return self.year.get("status") if self.year else None


KINDS = ("VISION", "PROGRAMME", "OBJECTIVE", "ACTION")


def _cents(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Figures:
    """One node's money in one year, as a row of the tree says it. The objectives service
    is adding these figures to each row (issue 18); until it does they are computed here
    from the year's need, committed money and the plan's threshold, so the page reads the
    same before and after. `committed_cents` counts money only up to the need, so a
    surplus is written apart and never hides a gap."""

    need_cents: int
    committed_cents: int  # up to the need
    surplus_cents: int
    gap_to_threshold_cents: int
    gap_to_full_cents: int
    committed_by_level: Mapping[str, int]


def figures_of(raw: Mapping, year: Mapping | None, threshold_pct: int) -> Figures | None:
    """The service's own figures where it sends them (on the year, or on the row), else
    what follows from need and committed money; None when the node has no year at all."""
    if year is None:
        return None

    def given(name: str) -> int | None:
        for source in (year, raw):
            found = _cents(source.get(name))
            if found is not None:
                return found
        return None

    need = given("need_cents") or 0
    total = _cents(year.get("committed_cents")) or 0
    committed = given("committed_cents")
    surplus = given("surplus_cents")
    if surplus is None:  # today's answer: committed is everything, surplus is what passes the need
        surplus = max(0, total - need) if need > 0 else total
        committed = min(total, need)
    elif committed is None:
        committed = min(total, need)
    committed = min(committed, need) if need > 0 else 0
    threshold = max(0, ceil(need * threshold_pct / 100)) if need > 0 else 0
    to_threshold = given("gap_to_threshold_cents")
    to_full = given("gap_to_full_cents")
    by_level = year.get("committed_by_level")
    return Figures(
        need_cents=need,
        committed_cents=committed,
        surplus_cents=surplus,
        gap_to_threshold_cents=to_threshold if to_threshold is not None else max(0, threshold - committed),
        gap_to_full_cents=to_full if to_full is not None else max(0, need - committed),
        committed_by_level={str(k): v for k, v in by_level.items() if _cents(v)}
        if isinstance(by_level, Mapping)
        else {},
    )


@dataclass(frozen=True)
class TreeFilters:
    """What the plan page narrows the tree to; none set shows the whole tree."""

    only_at_risk: bool = False
    lead: str | None = None
    level: str | None = None

    @property
    def any(self) -> bool:
        return self.only_at_risk or bool(self.lead) or bool(self.level)

    def match(self, node: TreeNode) -> bool:
        if self.only_at_risk and node.status != "AT_RISK":
            return False
        if self.lead and node.lead != self.lead:
            return False
        if self.level and not (node.figures and node.figures.committed_by_level.get(self.level)):
            return False
        return True


def narrow(nodes: Sequence[TreeNode], filters: TreeFilters) -> list[TreeNode]:
    """The nodes the filters match, each with the path of ancestors that leads to it (those
    marked not `shown`: the eye needs to know where a match sits in the plan)."""
    if not filters.any:
        return list(nodes)
    kept = []
    for node in nodes:
        children = narrow(node.children, filters)
        matched = filters.match(node)
        if matched or children:
            node.children, node.shown = children, matched
            kept.append(node)
    return kept


def leads(nodes: Sequence[TreeNode]) -> list[str]:
    """Every lead named in the tree, for the lead filter's choices."""
    found: set[str] = set()

    def walk(items: Sequence[TreeNode]) -> None:
        for n in items:
            if n.lead:
                found.add(n.lead)
            walk(n.children)

    walk(nodes)
    return sorted(found)


def rank(status: str | None) -> int:
    return STATUS_RANK.get(status or "", NO_STATUS_RANK)


def year_of(years: Sequence[Mapping] | None, fiscal_year: int) -> Mapping | None:
    return next((y for y in years or [] if isinstance(y, Mapping) and y.get("fiscal_year") == fiscal_year), None)


def build(nodes: Sequence[Mapping], fiscal_year: int, threshold_pct: int = 80) -> list[TreeNode]:
    """View nodes, siblings ordered by status (at risk first) and then as the plan has them."""
    built = []
    for raw in nodes:
        if not isinstance(raw, Mapping) or not raw.get("node_id"):
            continue  # not a node: nothing to show or link to
        year = year_of(raw.get("years"), fiscal_year)
        if year is not None and "status" not in year and isinstance(raw.get("status"), str):
            year = {**year, "status": raw["status"]}
        lead = raw.get("lead")
        node = TreeNode(
            str(raw["node_id"]),
            str(raw.get("title") or ""),
            str(raw.get("kind") or ""),
            lead if isinstance(lead, str) and lead else None,
            year,
            build(raw.get("children") or [], fiscal_year, threshold_pct),
            figures=figures_of(raw, year, threshold_pct),
            # The service marks a node kept only as the path to a match (`matches: false`).
            shown=raw.get("matches") is not False,
        )
        node.at_risk_below = (node.status == "AT_RISK") + sum(c.at_risk_below for c in node.children)
        built.append(node)
    # sorted() is stable: equal ranks keep the plan's own order
    return sorted(built, key=lambda n: (rank(n.status), -n.at_risk_below))


def count(nodes: Sequence[TreeNode]) -> int:
    return sum(1 + count(n.children) for n in nodes)


def matched(nodes: Sequence[TreeNode]) -> int:
    """The nodes the filters matched, not counting those kept as the path to one."""
    return sum(int(n.shown) + matched(n.children) for n in nodes)


def default_year(first_year: int, last_year: int, this_year: int) -> int:
    """This year when the plan covers it, else the plan's nearest end."""
    return min(max(this_year, first_year), last_year)
