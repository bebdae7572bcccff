"""The tree a plan file describes, read from its data even where some fields are wrong.

Why tolerant: an import reports every problem at once, so the tree's rules (domain.tree)
must run on a file whose schema check failed too. A field the schema refused is replaced by
a neutral value (and reported by the schema, once); a node without a valid id gets its path
as a placeholder id, which no real id can equal (ids have no brackets); a node without a
valid kind is left out and its children treated as roots, whose depth is never wrong. On
a valid file every value is exactly the validated one: the schema is strict, so it
converts nothing but the kind's name into NodeKind.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .plan_paths import Loc
from .tree import Node, NodeKind, Plan

Clean = Callable[[Loc], bool]  # True when the schema found no problem at or under this path


@dataclass(frozen=True)
class Placed:
    node: Node
    loc: Loc  # where the node is in the document, e.g. ("nodes", 1, "children", 0)
    lead: str | None


def plan_of(data: object, clean: Clean) -> Plan:
    raw = data if isinstance(data, dict) else {}

    def field(name: str, default: object) -> object:
        return raw[name] if name in raw and clean((name,)) else default

    first = field("first_year", None)
    last = field("last_year", None)
    if first is None or last is None:  # years unknown: no need can be out of them
        first, last = 1990, 2100
    return Plan(
        field("id", "<plan>"),
        field("title", ""),
        field("territory", ""),
        field("population", None),
        first,
        last,
        field("at_risk_threshold_pct", 80),
        field("single_level_warning_pct", 75),
        field("description", None),
    )


def nodes_of(data: object, plan_id: str, clean: Clean) -> list[Placed]:
    """Every node, parents before children, siblings in file order."""
    placed: list[Placed] = []
    if isinstance(data, dict):
        _add(data.get("nodes"), ("nodes",), "nodes", None, plan_id, clean, placed)
    return placed


def _add(
    items: object, loc: Loc, name: str, parent_id: str | None, plan_id: str, clean: Clean, placed: list[Placed]
) -> None:
    if not isinstance(items, list):
        return
    for index, raw in enumerate(items):
        here, path = (*loc, index), f"{name}[{index}]"
        if not isinstance(raw, dict):
            continue

        def field(key: str, default: object, raw: dict = raw, here: Loc = here) -> object:
            return raw[key] if key in raw and clean((*here, key)) else default

        kind = field("kind", None)
        node_id = field("id", None) or path
        if kind is None:
            _add(raw.get("children"), (*here, "children"), f"{path}.children", None, plan_id, clean, placed)
            continue
        needs = raw.get("needs") if isinstance(raw.get("needs"), dict) else {}
        node = Node(
            node_id,
            plan_id,
            parent_id,
            NodeKind(kind),
            field("title", ""),
            field("weight", 1),
            dict(sorted((y, c) for y, c in needs.items() if clean((*here, "needs", y)))),
            field("illustrative", False),
            index,
        )
        placed.append(Placed(node, here, field("lead", None)))
        _add(raw.get("children"), (*here, "children"), f"{path}.children", node_id, plan_id, clean, placed)
