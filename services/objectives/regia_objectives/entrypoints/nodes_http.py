"""One node of a plan at a time over HTTP (the plan file does whole plans)."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from regia_shared.contracts.money import Cents
from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.writes import ReasonedWrite

from ..domain.commands import ONE_LINE, FiscalYear, ObjectiveId
from ..domain.tree import Node, NodeKind
from ..service_layer.node_edits import add_node, change_node, remove_node
from ..service_layer.projection import Cause
from .read_models import NodeCreated, NodeUpdated

CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", max_length=200)]


class NewNode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    node_id: ObjectiveId
    kind: NodeKind
    title: str = Field(min_length=1, max_length=500, pattern=ONE_LINE)
    parent_id: ObjectiveId | None = None
    weight: int = Field(default=1, ge=1, le=1000)
    needs: dict[FiscalYear, Cents] = Field(default_factory=dict)
    illustrative: bool = False


class NodeChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=500, pattern=ONE_LINE)
    kind: NodeKind | None = None
    parent_id: ObjectiveId | None = Field(default=None, description="Move the node; null keeps it")
    make_root: bool = Field(default=False, description="Move the node to the top of the plan")
    weight: int | None = Field(default=None, ge=1, le=1000)
    needs: dict[FiscalYear, Cents] | None = None
    illustrative: bool | None = None


def nodes_router() -> APIRouter:
    router = APIRouter(prefix="/v1/plans/{plan_id}/nodes", tags=["plans"], dependencies=[Depends(require_admin)])

    def cause(correlation_id: str | None) -> Cause:
        return Cause(correlation_id or secrets.token_hex(16))

    @router.post("", status_code=201, response_model=NodeCreated)
    async def post_node(
        pool: DatabasePool, plan_id: str, body: NewNode, write: ReasonedWrite, correlation_id: CorrelationId = None
    ) -> dict:
        """Add a node to a plan, last among its siblings."""
        node = Node(
            body.node_id,
            plan_id,
            body.parent_id,
            body.kind,
            body.title,
            body.weight,
            dict(body.needs),
            body.illustrative,
        )
        done = await add_node(pool, plan_id, node, cause(correlation_id), write)
        return {"plan_id": plan_id, "node_id": body.node_id, "created": done.created}

    @router.patch("/{node_id}", response_model=NodeUpdated)
    async def patch_node(
        pool: DatabasePool,
        plan_id: str,
        node_id: str,
        body: NodeChanges,
        write: ReasonedWrite,
        correlation_id: CorrelationId = None,
    ) -> dict:
        """Change a node: its title, kind, weight, needs, or its place in the tree."""
        changes = body.model_dump(exclude_none=True, exclude={"make_root"})
        if body.make_root:
            changes["parent_id"] = None
        done = await change_node(pool, plan_id, node_id, changes, cause(correlation_id), write)
        return {"plan_id": plan_id, "node_id": node_id, "updated": done.updated}

    @router.delete("/{node_id}", status_code=204)
    async def delete_node(
        pool: DatabasePool, plan_id: str, node_id: str, write: ReasonedWrite, correlation_id: CorrelationId = None
    ) -> Response:
        """Remove a leaf node; refused while it has children or funding lines point at it."""
        await remove_node(pool, plan_id, node_id, cause(correlation_id), write)
        return Response(status_code=204)

    return router
