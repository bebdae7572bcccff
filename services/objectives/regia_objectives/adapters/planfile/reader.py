"""read_plan: a plan file's text becomes a PlanFile, or PlanFileInvalid with every problem.

Three kinds of problems are gathered before anything is refused: the YAML's own (a syntax
error stops reading, duplicate keys do not), the schema's, and the tree rules of
domain.tree, each pointing at a path in the file and the line it is on.
"""

import re
from collections import defaultdict

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ...domain.errors import PlanFileInvalid
from ...domain.plan_file import PlanFile
from ...domain.plan_parts import parts_of
from ...domain.plan_paths import Loc, Locator
from ...domain.plan_schema import (
    BASELINE_FIELDS,
    INDICATOR_FIELDS,
    MILESTONE_FIELDS,
    NODE_FIELDS,
    PLAN_FIELDS,
    ROLE_FIELDS,
    PlanDocument,
)
from ...domain.plan_skeleton import Placed, nodes_of, plan_of
from ...domain.tree import Plan, Problem, problems_of
from . import safeyaml

MAX_PROBLEMS = 1000  # a hostile file could otherwise make the refusal larger than itself


def read_plan(text: str) -> PlanFile:
    data, locator, problems = safeyaml.load(text)
    refused = sorted(_schema_errors(data), key=lambda error: locator.line(error[0]) or 0)  # in file order
    problems += [Problem(*locator.at(loc, message)) for loc, message in refused]
    under = {loc[:end] for loc, _ in refused for end in range(1, len(loc) + 1)}

    def clean(loc: Loc) -> bool:
        return loc not in under

    plan = plan_of(data, clean)
    placed = nodes_of(data, plan.plan_id, clean)
    problems += _tree_problems(plan, placed, locator)
    parts = parts_of(placed)
    problems += [Problem(*locator.at(loc, message)) for loc, message in parts.problems]
    if problems:
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS + 1
            problems = [*problems[: MAX_PROBLEMS - 1], Problem("plan", f"… and {more} more problems")]
        raise PlanFileInvalid(problems)
    return PlanFile(
        plan,
        [p.node for p in placed],
        {p.node.node_id: p.lead for p in placed if p.lead},
        parts.roles,
        parts.indicators,
        parts.milestones,
        {key: (locator.where(loc), locator.line(loc)) for key, loc in parts.places.items()},
    )


def _schema_errors(data: object) -> list[tuple[Loc, str]]:
    try:
        PlanDocument.model_validate(data)
    except ValidationError as exc:
        return [(tuple(e["loc"]), _message(e)) for e in exc.errors(include_url=False)]
    return []


def _message(error: ErrorDetails) -> str:
    """pydantic's wording, made to read as a sentence about the field it is attached to."""
    loc, kind = error["loc"], error["type"]
    if kind == "extra_forbidden":
        fields = _fields_at(loc)
        return f"unknown field; the fields are {', '.join(fields)}"
    if kind == "missing":
        return "is required"
    if kind in ("model_type", "dict_type"):
        return "must be a mapping (key: value lines)"
    if kind == "list_type":
        return "must be a list (lines starting with '- ')"
    if kind == "string_pattern_mismatch":
        return "must be an id: letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
    return re.sub(r"^(Input|String|Dictionary|List) should", "should", error["msg"].removeprefix("Value error, "))


_FIELDS_UNDER = {"indicators": INDICATOR_FIELDS, "milestones": MILESTONE_FIELDS, "roles": ROLE_FIELDS}


def _fields_at(loc: Loc) -> tuple[str, ...]:
    """The fields of the mapping an unknown key was found in."""
    if len(loc) == 1:
        return PLAN_FIELDS
    if loc[-2] == "baseline":
        return BASELINE_FIELDS
    if len(loc) >= 3 and isinstance(loc[-2], int) and loc[-3] in _FIELDS_UNDER:
        return _FIELDS_UNDER[str(loc[-3])]
    return NODE_FIELDS


def _tree_problems(plan: Plan, placed: list[Placed], locator: Locator) -> list[Problem]:
    locs: dict[str, list[Loc]] = defaultdict(list)
    for p in placed:
        locs[p.node.node_id].append(p.loc)
    found = []
    for problem in problems_of(plan, [p.node for p in placed]):
        at = locs.get(problem.where)
        if not at:  # the plan itself
            found.append(problem)
            continue
        where, message = locator.at(at[0], problem.message)
        if len(at) > 1:
            message += f"; the id {problem.where!r} is at " + ", ".join(locator.where(loc) for loc in at)
        found.append(Problem(where, message))
    return found
