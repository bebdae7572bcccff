"""Changing one node of a plan through the API. Each change is applied to the whole plan
and goes through the same all-or-nothing import, so a single edit obeys exactly the rules
of a plan file: no cycle, no orphan, no node that money points at dropped."""

from dataclasses import replace

import asyncpg

from regia_shared.writes import WriteContext

from ..domain.errors import HasChildren, NodeExists, NodeNotFound
from ..domain.tree import Node, NodeKind
from .plans import Imported, audit_plan_write, import_plan_in, lock_plan, read_plan_in
from .projection import Cause


async def add_node(
    pool: asyncpg.Pool, plan_id: str, node: Node, cause: Cause, write: WriteContext | None = None
) -> Imported:
    async with pool.acquire() as conn, conn.transaction():
        await lock_plan(conn, plan_id)
        plan, nodes, _ = await read_plan_in(conn, plan_id)
        done = await import_plan_in(conn, plan, _added(plan_id, nodes, node), cause)
        await audit_plan_write(conn, write, f"objective:{node.node_id}", done)
        return done


def _added(plan_id: str, nodes: list[Node], node: Node) -> list[Node]:
    if any(n.node_id == node.node_id for n in nodes):
        raise NodeExists(f"plan {plan_id!r} already has a node {node.node_id!r}", "node_id")
    siblings = [n.position for n in nodes if n.parent_id == node.parent_id]
    return nodes + [replace(node, plan_id=plan_id, position=max(siblings, default=-1) + 1)]


async def change_node(
    pool: asyncpg.Pool, plan_id: str, node_id: str, changes: dict, cause: Cause, write: WriteContext | None = None
) -> Imported:
    async with pool.acquire() as conn, conn.transaction():
        await lock_plan(conn, plan_id)
        plan, nodes, _ = await read_plan_in(conn, plan_id)
        done = await import_plan_in(conn, plan, _changed(nodes, node_id, changes), cause)
        await audit_plan_write(conn, write, f"objective:{node_id}", done)
        return done


def _changed(nodes: list[Node], node_id: str, changes: dict) -> list[Node]:
    found = _find(nodes, node_id)
    if "kind" in changes:
        changes = {**changes, "kind": NodeKind(changes["kind"])}
    changed = replace(found, **changes)
    # A node moved under another parent, or rooted, goes last among its new siblings.
    if changed.parent_id != found.parent_id:
        siblings = [n.position for n in nodes if n.parent_id == changed.parent_id]
        changed = replace(changed, position=max(siblings, default=-1) + 1)
    return [changed if n.node_id == node_id else n for n in nodes]


async def remove_node(
    pool: asyncpg.Pool, plan_id: str, node_id: str, cause: Cause, write: WriteContext | None = None
) -> Imported:
    async with pool.acquire() as conn, conn.transaction():
        await lock_plan(conn, plan_id)
        plan, nodes, _ = await read_plan_in(conn, plan_id)
        done = await import_plan_in(conn, plan, _removed(nodes, node_id), cause)
        await audit_plan_write(conn, write, f"objective:{node_id}", done)
        return done


def _removed(nodes: list[Node], node_id: str) -> list[Node]:
    _find(nodes, node_id)
    children = [n.node_id for n in nodes if n.parent_id == node_id]
    if children:
        raise HasChildren(
            f"{node_id!r} still has {len(children)} child node(s) ({', '.join(children[:5])}); "
            "move or remove them first",
            "node_id",
        )
    return [n for n in nodes if n.node_id != node_id]


def _find(nodes: list[Node], node_id: str) -> Node:
    for node in nodes:
        if node.node_id == node_id:
            return node
    raise NodeNotFound(f"no node {node_id!r} in this plan", "node_id")
