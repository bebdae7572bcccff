"""write_plan: a PlanFile as YAML that read_plan reads back equal.

Deterministic, so that an export can be diffed and kept under version control: fields in
the schema's order, siblings by position, needs by year, defaults left out, no anchors,
no line folding (a long title stays on one line), multi-line text as a literal block.
"""

from collections import defaultdict
from collections.abc import Callable

import yaml

from ...domain.plan_file import PlanFile
from ...domain.tree import Node

HEADER = (
    "# Regia plan file: a plan and its tree (VISION > PROGRAMME > OBJECTIVE > ACTION).\n"
    "# needs: budget need per fiscal year in integer euro cents; lead: the partner id.\n"
)


def write_plan(plan_file: PlanFile) -> str:
    """Raises ValueError rather than silently drop what the tree does not reach (a node
    whose parent is missing, a cycle, a lead of a node that is not in the plan)."""
    children: dict[str | None, list[Node]] = defaultdict(list)
    for node in plan_file.nodes:
        children[node.parent_id].append(node)
    written: set[str] = set()

    def tree(parent: str | None) -> list[dict[str, object]]:
        return [_node(n, plan_file.leads.get(n.node_id), tree) for n in _siblings(children, parent, written)]

    plan = plan_file.plan
    document: dict[str, object] = {"id": plan.plan_id, "title": plan.title, "territory": plan.territory}
    if plan.population is not None:
        document["population"] = plan.population
    document |= {
        "first_year": plan.first_year,
        "last_year": plan.last_year,
        "at_risk_threshold_pct": plan.at_risk_threshold_pct,
        "single_level_warning_pct": plan.single_level_warning_pct,
    }
    if plan.description is not None:
        document["description"] = plan.description
    document["nodes"] = tree(None)
    missed = [n.node_id for n in plan_file.nodes if n.node_id not in written]
    if len(written) != len(plan_file.nodes):
        raise ValueError(f"nodes outside the tree (missing parent, cycle or repeated id): {missed}")
    if stray := sorted(set(plan_file.leads) - written):
        raise ValueError(f"leads of nodes that are not in the plan: {stray}")
    return HEADER + yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1_000_000
    )


def _siblings(children: dict[str | None, list[Node]], parent: str | None, written: set[str]) -> list[Node]:
    # sorted() is stable: siblings sharing a position keep their order in the list. A
    # repeated id is written once (and then refused), so the recursion always ends.
    found = [n for n in sorted(children.get(parent, []), key=lambda n: n.position) if n.node_id not in written]
    written.update(n.node_id for n in found)
    return found


def _node(node: Node, lead: str | None, tree: Callable[[str], list[dict[str, object]]]) -> dict[str, object]:
    out: dict[str, object] = {"id": node.node_id, "kind": node.kind.value, "title": node.title}
    if node.weight != 1:
        out["weight"] = node.weight
    if lead is not None:
        out["lead"] = lead
    if node.illustrative:
        out["illustrative"] = True
    if node.needs:
        out["needs"] = dict(sorted(node.needs.items()))
    if kids := tree(node.node_id):
        out["children"] = kids
    return out


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True  # equal values are written out each time: the reader refuses aliases

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)  # lists indented under their key: easier to read


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # The emitter falls back to quoting when a literal block cannot hold the text exactly.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)
