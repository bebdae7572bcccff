"""What reading a plan file gives: the plan, its nodes and their leads, or every problem."""

from dataclasses import dataclass

from ..domain.tree import Node, Plan, Problem


@dataclass(frozen=True)
class PlanFile:
    """A plan as its file holds it: `nodes` parents first, in file order (each sibling's
    `position` is its place among its siblings); `leads` maps a node id to the partner id
    that leads it (the partners service owns leads, so they travel beside the nodes)."""

    plan: Plan
    nodes: list[Node]
    leads: dict[str, str]


class PlanFileInvalid(ValueError):
    """The file cannot be imported; `problems` lists every reason at once, each `where`
    being a path into the file such as `nodes[1].children[0].needs.2031`."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = f"{problems[0].where}: {problems[0].message}" if problems else "no details"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"invalid plan file: {first}{more}")
