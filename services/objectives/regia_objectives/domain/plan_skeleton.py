"""The tree a plan file describes, read from its data even where some fields are wrong.

Why tolerant: an import reports every problem at once, so the tree's rules (domain.tree)
must run on a file whose schema check failed too. A field the schema refused is replaced by
a neutral value (and reported by the schema, once); a node without a valid id gets its path
as a placeholder id, which no real id can equal (ids have no brackets); a node without a
valid kind is left out and its children treated as roots, whose depth is never wrong. On
a valid file every value is exactly the validated one: the schema is strict, so it
converts nothing but the kind's name into NodeKind.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from .plan_paths import Loc
from .plan_schema import IndicatorDocument, MilestoneDocument, RoleDocument
from .tree import Node, NodeKind, Plan

Clean = Callable[[Loc], bool]  # True when the schema found no problem at or under this path
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def _value(raw: Mapping[object, object], key: str, loc: Loc, clean: Clean, kind: type[T], default: T) -> T:
    """The file's value for `key` if the schema found no problem with it, else `default`.
    A value the schema let through already has `kind` (its types are strict: StrictStr,
    StrictInt, StrictBool), so the isinstance check only states that for the type checker."""
    value = raw[key] if key in raw and clean(loc) else default
    return value if isinstance(value, kind) else default


@dataclass(frozen=True)
class Placed:
    node: Node
    loc: Loc  # where the node is in the document, e.g. ("nodes", 1, "children", 0)
    lead: str | None
    # None: the node has no such key (the import leaves what it has); else the entries the
    # schema accepted, each with its path (one the schema refused is reported, and left out).
    roles: list[tuple[RoleDocument, Loc]] | None = None
    indicators: list[tuple[IndicatorDocument, Loc]] | None = None
    milestones: list[tuple[MilestoneDocument, Loc]] | None = None


def _entries(
    raw: Mapping[object, object], key: str, here: Loc, clean: Clean, model: type[M]
) -> list[tuple[M, Loc]] | None:
    """The node's list under `key`, each entry the schema found no problem with, as its model."""
    if key not in raw:
        return None
    items = raw[key]
    if not isinstance(items, list):
        return None if items is None else []  # `key:` with nothing after it is null: as if absent
    at = (*here, key)
    return [(model.model_validate(item), (*at, i)) for i, item in enumerate(items) if clean((*at, i))]


def plan_of(data: object, clean: Clean) -> Plan:
    raw: Mapping[object, object] = data if isinstance(data, dict) else {}

    def field(name: str, kind: type[T], default: T) -> T:
        return _value(raw, name, (name,), clean, kind, default)

    first = field("first_year", int, None)
    last = field("last_year", int, None)
    if first is None or last is None:  # years unknown: no need can be out of them
        first, last = 1990, 2100
    return Plan(
        field("id", str, "<plan>"),
        field("title", str, ""),
        field("territory", str, ""),
        field("population", int, None),
        first,
        last,
        field("at_risk_threshold_pct", int, 80),
        field("single_level_warning_pct", int, 75),
        field("description", str, None),
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

        def field(key: str, kind: type[T], default: T, raw: Mapping[object, object] = raw, here: Loc = here) -> T:
            return _value(raw, key, (*here, key), clean, kind, default)

        kind = field("kind", str, None)
        node_id = field("id", str, None) or path
        if kind is None:
            _add(raw.get("children"), (*here, "children"), f"{path}.children", None, plan_id, clean, placed)
            continue
        given = raw.get("needs")
        needs = given if isinstance(given, dict) else {}
        node = Node(
            node_id,
            plan_id,
            parent_id,
            NodeKind(kind),
            field("title", str, ""),
            field("weight", int, 1),
            dict(sorted((y, c) for y, c in needs.items() if clean((*here, "needs", y)))),
            field("illustrative", bool, False),
            index,
        )
        placed.append(
            Placed(
                node,
                here,
                field("lead", str, None),
                _entries(raw, "roles", here, clean, RoleDocument),
                _entries(raw, "indicators", here, clean, IndicatorDocument),
                _entries(raw, "milestones", here, clean, MilestoneDocument),
            )
        )
        _add(raw.get("children"), (*here, "children"), f"{path}.children", node_id, plan_id, clean, placed)
