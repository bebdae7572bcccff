"""Every refusal of the objectives service, in one place. Each Refused names its HTTP
status and a stable code (regia_shared.http.errors renders them all as one error body); the
message and the field at fault are the raiser's to give.

Two "not found" refusals look alike and are kept apart on purpose: ObjectiveNotFound
(`objective_not_found`, "no objective 'x'") is for an objective or node looked up by its
own id, NodeNotFound (`node_not_found`, "no node 'x' in this plan") for a node looked up
inside a plan being edited. Callers tell them apart by their codes.
"""

from regia_shared.contracts.refusal import Refused

from .tree import Problem

# Objectives and their coverage


class ObjectiveConflict(Refused):
    status, code = 409, "objective_exists"


class ObjectiveNotFound(Refused):
    status, code = 404, "objective_not_found"


class TotalTooLarge(Refused):
    """A total of a node for a year would exceed what the coverage events can carry."""

    status, code = 422, "total_too_large"


# Plans, plan files and the nodes of a plan


class PlanInvalid(Refused):
    status, code = 422, "plan_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.details = [{"field": p.where, "message": p.message} for p in problems]
        super().__init__(
            "; ".join(f"{p.where}: {p.message}" for p in problems), problems[0].where if problems else None
        )


class PlanNotFound(Refused):
    status, code = 404, "plan_not_found"


class PlanFileInvalid(ValueError):
    """The file cannot be imported; `problems` lists every reason at once, each `where`
    being a path into the file such as `nodes[1].children[0].needs.2031`. Not a Refused:
    the API turns it into PlanInvalid, the CLI prints it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = f"{problems[0].where}: {problems[0].message}" if problems else "no details"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"invalid plan file: {first}{more}")


class NodeNotFound(Refused):
    status, code = 404, "node_not_found"


class NodeExists(Refused):
    status, code = 409, "node_exists"


class HasChildren(Refused):
    status, code = 409, "node_has_children"


# Indicators and milestones


class InvalidIndicatorData(Refused):
    status, code = 422, "invalid_indicator_data"


class IndicatorNotFound(Refused):
    status, code = 404, "indicator_not_found"


class InvalidMilestoneData(Refused):
    status, code = 422, "invalid_milestone_data"


class MilestoneNotFound(Refused):
    status, code = 404, "milestone_not_found"


class AlreadyRecorded(Refused):
    status, code = 409, "conflict"


# Annual reviews


class ReviewAlreadyClosed(Refused):
    status, code = 409, "review_closed"


class ReviewNotFound(Refused):
    status, code = 404, "review_not_found"


class YearOutsidePlan(Refused):
    status, code = 422, "year_outside_plan"


class YearNotEnded(Refused):
    status, code = 422, "year_not_ended"
