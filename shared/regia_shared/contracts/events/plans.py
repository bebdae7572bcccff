"""Plan-level events published by the objectives service on `regia.objectives.v1`, but for
SingleLevelDependencyDetected, which the coverage projection publishes with the coverage
events on `regia.objectives.coverage.v1` (events.routing)."""

from typing import Annotated

from pydantic import Field

from regia_shared.contracts.events.envelope import EventPayload
from regia_shared.contracts.events.objectives import history_marker
from regia_shared.contracts.events.partners import ObjectiveRole


class SingleLevelDependencyDetected(EventPayload):
    """An objective's money for a year came to depend on one level of government for more
    than its plan allows (a cut at that level would hit it hard)."""

    objective_id: str = Field(min_length=1, max_length=100)
    title: str
    fiscal_year: int = Field(ge=1990, le=2100)
    level: str
    share_bp: int = Field(ge=0, le=10_000, description="The level's share in basis points")
    warning_pct: int = Field(ge=1, le=100)
    committed_cents: int = Field(ge=0)
    history: bool = history_marker()


class AnnualReviewClosed(EventPayload):
    """A plan's year was reviewed and frozen (*punto della situazione*); the budget window
    moves on past it."""

    plan_id: str = Field(min_length=1, max_length=100)
    fiscal_year: int = Field(ge=1990, le=2100)
    need_cents: int = Field(ge=0)
    committed_cents: int = Field(ge=0)
    disbursed_cents: int = Field(ge=0)
    coverage_bp: int = Field(ge=0)
    nodes_by_status: dict[str, int]


class DeclaredLead(EventPayload):
    objective_id: str = Field(min_length=1, max_length=100)
    partner_id: str = Field(min_length=1, max_length=100)


class DeclaredRole(EventPayload):
    objective_id: str = Field(min_length=1, max_length=100)
    partner_id: str = Field(min_length=1, max_length=100)
    role: ObjectiveRole


class PlanPartnersDeclared(EventPayload):
    """A plan file imported with leads or roles on its nodes. The partners service owns
    leads and roles, so the objectives service states them here, in the import's own
    transaction, and the partners service applies them all in one of its own (publishing
    ObjectiveLeadAssigned, ObjectiveRoleAssigned and ObjectiveRoleWithdrawn for what
    changed). Every partner named was registered (the import checks), and partners are
    never deleted, so applying it cannot fail on a partner."""

    plan_id: str = Field(min_length=1, max_length=100)
    leads: list[DeclaredLead] = Field(
        description="The lead each of these nodes has now (a node not listed keeps its own)"
    )
    roles: list[DeclaredRole] = Field(description="The roles other than LEAD on the nodes of `role_nodes`")
    role_nodes: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        description="Nodes whose roles the file gives whole: a role held on one of them and not in `roles` is withdrawn"
    )
