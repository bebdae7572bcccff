"""What reading a plan file gives: the plan, its nodes and their leads (or, refused,
errors.PlanFileInvalid with every problem)."""

from dataclasses import dataclass

from .tree import Node, Plan


@dataclass(frozen=True)
class PlanFile:
    """A plan as its file holds it: `nodes` parents first, in file order (each sibling's
    `position` is its place among its siblings); `leads` maps a node id to the partner id
    that leads it (the partners service owns leads, so they travel beside the nodes)."""

    plan: Plan
    nodes: list[Node]
    leads: dict[str, str]
