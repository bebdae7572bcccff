"""What reading a plan file gives: the plan, its nodes, their leads, roles, indicators and
milestones (or, refused, errors.PlanFileInvalid with every problem)."""

from dataclasses import dataclass, field
from decimal import Decimal

from regia_shared.contracts.events.partners import ObjectiveRole

from .indicators import Indicator
from .milestones import Milestone
from .tree import Node, Plan


@dataclass(frozen=True)
class PlannedIndicator:
    """An indicator as the file defines it: its definition and a target per fiscal year
    (its measurements are observations, kept by the service, never in the file)."""

    indicator: Indicator
    targets: dict[int, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanFile:
    """A plan as its file holds it: `nodes` parents first, in file order (each sibling's
    `position` is its place among its siblings); `leads` maps a node id to the partner id
    that leads it.

    `roles`, `indicators` and `milestones` hold, for each node whose file entry has that
    key, the whole set it gives (possibly empty: `roles: []` withdraws every role); a node
    without the key is not in the mapping, and an import leaves what it has alone. So a
    file written before these keys existed imports as it always did.

    `lines` says where each lead, role, indicator and milestone is in the file (its path
    and line), keyed as `lead:<node>`, `role:<node>:<partner>:<role>`, `indicator:<id>`,
    `milestone:<id>`: what the service finds wrong with one (a partner it does not know,
    an id another plan uses) is reported at its line too."""

    plan: Plan
    nodes: list[Node]
    leads: dict[str, str]
    roles: dict[str, list[tuple[str, ObjectiveRole]]] = field(default_factory=dict)
    indicators: dict[str, list[PlannedIndicator]] = field(default_factory=dict)
    milestones: dict[str, list[Milestone]] = field(default_factory=dict)
    lines: dict[str, tuple[str, int | None]] = field(default_factory=dict, compare=False)

    def located(self, key: str, fallback: str, message: str) -> tuple[str, str]:
        """(where, message) for a problem with what `key` names, with its line if known."""
        where, line = self.lines.get(key, (fallback, None))
        return where, f"{message} (line {line})" if line is not None else message
