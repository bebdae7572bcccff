"""The parts of a plan file beyond its tree: each node's roles, indicators and milestones,
turned into the domain's values and checked against the rules the API applies to each
(a target at or past its baseline and on its better side, one role per partner and role)
and across the file (an indicator or milestone id appears once). Pure: what needs the
database (a partner registered, an id another plan uses) is the import's to check."""

from collections import defaultdict
from dataclasses import dataclass, field

from regia_shared.contracts.events.partners import ObjectiveRole

from .errors import InvalidIndicatorData
from .indicators import Indicator, check_target
from .milestones import Milestone
from .plan_file import PlannedIndicator
from .plan_paths import Loc
from .plan_skeleton import Placed


@dataclass
class Parts:
    roles: dict[str, list[tuple[str, ObjectiveRole]]] = field(default_factory=dict)
    indicators: dict[str, list[PlannedIndicator]] = field(default_factory=dict)
    milestones: dict[str, list[Milestone]] = field(default_factory=dict)
    # key (plan_file.PlanFile.lines) → where it is, for the service's own checks
    places: dict[str, Loc] = field(default_factory=dict)
    problems: list[tuple[Loc, str]] = field(default_factory=list)


def parts_of(placed: list[Placed]) -> Parts:
    parts = Parts()
    indicator_at: dict[str, list[Loc]] = defaultdict(list)
    milestone_at: dict[str, list[Loc]] = defaultdict(list)
    for p in placed:
        node_id = p.node.node_id
        if p.lead is not None:
            parts.places[f"lead:{node_id}"] = (*p.loc, "lead")
        if p.roles is not None:
            held: list[tuple[str, ObjectiveRole]] = []
            for role, loc in p.roles:
                pair = (role.partner, ObjectiveRole(role.role.value))
                if pair in held:
                    parts.problems.append((loc, f"{role.partner!r} is given the role {role.role.value} twice"))
                    continue
                held.append(pair)
                parts.places[f"role:{node_id}:{role.partner}:{role.role.value}"] = loc
            parts.roles[node_id] = held
        if p.indicators is not None:
            planned = []
            for doc, loc in p.indicators:
                indicator_at[doc.id].append(loc)
                parts.places[f"indicator:{doc.id}"] = loc
                indicator = Indicator(
                    doc.id,
                    node_id,
                    doc.name,
                    doc.unit,
                    doc.direction,
                    doc.baseline.value,
                    doc.baseline.year,
                    doc.description,
                )
                refused = False
                for year, value in doc.targets.items():
                    try:
                        check_target(indicator, year, value)
                    except InvalidIndicatorData as exc:
                        parts.problems.append(((*loc, "targets", year), str(exc)))
                        refused = True
                if not refused:
                    planned.append(PlannedIndicator(indicator, dict(sorted(doc.targets.items()))))
            parts.indicators[node_id] = planned
        if p.milestones is not None:
            milestones = []
            for m, loc in p.milestones:
                milestone_at[m.id].append(loc)
                parts.places[f"milestone:{m.id}"] = loc
                milestones.append(Milestone(m.id, node_id, m.title, m.due_on, m.description, m.reached_on))
            parts.milestones[node_id] = milestones
    for what, seen in (("indicator", indicator_at), ("milestone", milestone_at)):
        for item_id, locs in seen.items():
            for loc in locs[1:]:
                parts.problems.append((loc, f"the {what} id {item_id!r} is already used above; ids are unique"))
    return parts
