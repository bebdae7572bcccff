"""write_plan: a PlanFile as YAML that read_plan reads back equal.

Deterministic, so that an export can be diffed and kept under version control: fields in
the schema's order, siblings by position, needs and targets by year, roles by partner then
role, indicators by id, milestones by due date then id, defaults and empty lists left out,
no anchors, no line folding (a long title stays on one line), multi-line text as a literal
block. An indicator's value is written as an integer when it is one, else as the shortest
decimal text that equals it ('12.5', never '12.500000' nor a float).
"""

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

import yaml

from ...domain.milestones import Milestone
from ...domain.plan_file import PlanFile, PlannedIndicator
from ...domain.tree import Node

HEADER = (
    "# Regia plan file: a plan and its tree (VISION > PROGRAMME > OBJECTIVE > ACTION).\n"
    "# needs: budget need per fiscal year in integer euro cents; lead: the partner id.\n"
    "# roles, indicators (targets per year) and milestones: docs/domain.md, 'The plan file'.\n"
)


def write_plan(plan_file: PlanFile) -> str:
    """Raises ValueError rather than silently drop what the tree does not reach (a node
    whose parent is missing, a cycle, a lead of a node that is not in the plan)."""
    children: dict[str | None, list[Node]] = defaultdict(list)
    for node in plan_file.nodes:
        children[node.parent_id].append(node)
    written: set[str] = set()

    def tree(parent: str | None) -> list[dict[str, object]]:
        return [_node(n, plan_file, tree) for n in _siblings(children, parent, written)]

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
    for what, held in (
        ("leads", plan_file.leads),
        ("roles", plan_file.roles),
        ("indicators", plan_file.indicators),
        ("milestones", plan_file.milestones),
    ):
        if stray := sorted(set(held) - written):
            raise ValueError(f"{what} of nodes that are not in the plan: {stray}")
    return HEADER + yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1_000_000
    )


def _siblings(children: dict[str | None, list[Node]], parent: str | None, written: set[str]) -> list[Node]:
    # sorted() is stable: siblings sharing a position keep their order in the list. A
    # repeated id is written once (and then refused), so the recursion always ends.
    found = [n for n in sorted(children.get(parent, []), key=lambda n: n.position) if n.node_id not in written]
    written.update(n.node_id for n in found)
    return found


def _node(node: Node, plan_file: PlanFile, tree: Callable[[str], list[dict[str, object]]]) -> dict[str, object]:
    out: dict[str, object] = {"id": node.node_id, "kind": node.kind.value, "title": node.title}
    if node.weight != 1:
        out["weight"] = node.weight
    if (lead := plan_file.leads.get(node.node_id)) is not None:
        out["lead"] = lead
    if roles := plan_file.roles.get(node.node_id):
        out["roles"] = [{"partner": p, "role": r.value} for p, r in sorted(roles, key=lambda pr: (pr[0], pr[1].value))]
    if node.illustrative:
        out["illustrative"] = True
    if node.needs:
        out["needs"] = dict(sorted(node.needs.items()))
    if indicators := plan_file.indicators.get(node.node_id):
        out["indicators"] = [_indicator(i) for i in sorted(indicators, key=lambda i: i.indicator.indicator_id)]
    if milestones := plan_file.milestones.get(node.node_id):
        out["milestones"] = [_milestone(m) for m in sorted(milestones, key=lambda m: (m.due_on, m.milestone_id))]
    if kids := tree(node.node_id):
        out["children"] = kids
    return out


def _indicator(planned: PlannedIndicator) -> dict[str, object]:
    i = planned.indicator
    out: dict[str, object] = {
        "id": i.indicator_id,
        "name": i.name,
        "unit": i.unit,
        "direction": i.direction.value,
        "baseline": {"value": exact(i.baseline_value), "year": i.baseline_year},
    }
    if planned.targets:
        out["targets"] = {year: exact(value) for year, value in sorted(planned.targets.items())}
    if i.description is not None:
        out["description"] = i.description
    return out


def _milestone(m: Milestone) -> dict[str, object]:
    out: dict[str, object] = {"id": m.milestone_id, "title": m.title, "due_on": m.due_on}
    if m.reached_on is not None:
        out["reached_on"] = m.reached_on
    if m.description is not None:
        out["description"] = m.description
    return out


def exact(value: Decimal) -> int | str:
    """An integer as one; any other decimal as its shortest exact text, which the reader
    takes back as the same Decimal (a YAML float would not be exact)."""
    if value == value.to_integral_value():
        return int(value)
    return format(value.normalize(), "f")


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
