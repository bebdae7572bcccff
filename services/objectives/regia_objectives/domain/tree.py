"""The plan tree: plan → vision → programme → objective → action. Pure rules, no I/O.

Levels may be skipped (the 2001 La Spezia plan has a vision and objectives with no
programmes; the Patto 2012 has objectives straight under the plan), but a child is always
deeper than its parent, so the tree reads the same way in every plan.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class NodeKind(StrEnum):
    VISION = "VISION"
    PROGRAMME = "PROGRAMME"
    OBJECTIVE = "OBJECTIVE"
    ACTION = "ACTION"

    @property
    def depth(self) -> int:
        return list(NodeKind).index(self)


@dataclass(frozen=True)
class Plan:
    plan_id: str
    title: str
    territory: str
    population: int | None
    first_year: int
    last_year: int
    at_risk_threshold_pct: int = 80
    single_level_warning_pct: int = 75
    description: str | None = None


@dataclass(frozen=True)
class Node:
    node_id: str
    plan_id: str | None  # None: a standalone objective defined before plans existed
    parent_id: str | None
    kind: NodeKind
    title: str
    weight: int = 1
    needs: Mapping[int, int] = field(default_factory=dict)
    illustrative: bool = False
    position: int = 0


@dataclass(frozen=True)
class Problem:
    where: str
    message: str


def problems_of(plan: Plan, nodes: Iterable[Node]) -> list[Problem]:
    """Every way the tree breaks the rules, all at once (an import reports them together)."""
    nodes = list(nodes)
    found: list[Problem] = []
    if plan.first_year > plan.last_year:
        found.append(Problem("plan", f"first_year {plan.first_year} is after last_year {plan.last_year}"))
    by_id: dict[str, Node] = {}
    for node in nodes:
        if node.node_id in by_id:
            found.append(Problem(node.node_id, "the same id is used twice"))
        by_id[node.node_id] = node
    for node in nodes:
        if node.plan_id != plan.plan_id:
            found.append(Problem(node.node_id, f"belongs to plan {node.plan_id!r}, not {plan.plan_id!r}"))
        if node.parent_id is not None:
            parent = by_id.get(node.parent_id)
            if parent is None:
                found.append(Problem(node.node_id, f"its parent {node.parent_id!r} is not in the plan"))
            elif node.kind.depth <= parent.kind.depth:
                found.append(
                    Problem(node.node_id, f"{_a(node.kind)} cannot sit under {_a(parent.kind)} ({parent.node_id})")
                )
        for year in node.needs:
            if not plan.first_year <= year <= plan.last_year:
                found.append(
                    Problem(
                        node.node_id, f"need for {year} is outside the plan's years {plan.first_year}..{plan.last_year}"
                    )
                )
        if node.weight < 1:
            found.append(Problem(node.node_id, "weight must be at least 1"))
    found.extend(Problem(n, "is its own ancestor (a cycle)") for n in cycles({n.node_id: n.parent_id for n in nodes}))
    return found


def _a(kind: NodeKind) -> str:
    word = kind.value.lower()
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def cycles(parent_of: Mapping[str, str | None]) -> list[str]:
    """Nodes that reach themselves by following parents."""
    looping = []
    for start in parent_of:
        seen, node = {start}, parent_of.get(start)
        while node is not None:
            if node == start:
                looping.append(start)
                break
            if node in seen:
                break
            seen.add(node)
            node = parent_of.get(node)
    return sorted(looping)


def ancestors(node_id: str, parent_of: Mapping[str, str | None]) -> list[str]:
    """From the parent up to the root (cycles are refused on write, but never loop here)."""
    chain, seen, node = [], {node_id}, parent_of.get(node_id)
    while node is not None and node not in seen:
        chain.append(node)
        seen.add(node)
        node = parent_of.get(node)
    return chain


def kept_with_ancestors(parent_of: Mapping[str, str | None], matching: Iterable[str]) -> set[str]:
    """The nodes a filtered tree shows: those that match and every ancestor of one, so the
    path from the root to each match stays readable."""
    kept: set[str] = set()
    for node in matching:
        if node in kept:
            continue
        kept.add(node)
        for above in ancestors(node, parent_of):
            if above in kept:
                break
            kept.add(above)
    return kept
