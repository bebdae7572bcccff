"""Use cases on plans: import a whole plan file, all or nothing, and read it back.

An import is one transaction: the plan, every node it adds, changes or drops, their
ObjectiveDefined events and the recomputed coverage. Every problem is found before
anything is written and reported together; a node that funding lines point at is never
dropped (its money would be orphaned).
"""

from dataclasses import dataclass
from datetime import date

import asyncpg

from regia_shared.contracts import topics
from regia_shared.messaging import outbox
from regia_shared.writes import WriteContext, record_write

from ..adapters import coverage, objectives, plans
from ..adapters.objectives import ObjectiveRecord
from ..adapters.plans import TreeRowText
from ..domain.coverage import YearCoverage
from ..domain.errors import PlanInvalid, PlanNotFound
from ..domain.plan_file import PlanFile
from ..domain.tree import Node, NodeKind, Plan, Problem, problems_of
from .objectives import defined_event
from .plan_parts import apply_parts, parts_of_plan, problems_of_parts
from .projection import Cause, recompute


@dataclass(frozen=True)
class Imported:
    plan_id: str
    created: int
    updated: int
    unchanged: int
    removed: int


def record_of(plan: Plan, node: Node) -> ObjectiveRecord:
    return ObjectiveRecord(
        node.node_id,
        node.title,
        plan.at_risk_threshold_pct,
        dict(node.needs),
        plan.plan_id,
        node.parent_id,
        node.kind.value,
        node.weight,
        node.illustrative,
        node.position,
        plan.single_level_warning_pct,
    )


def node_of(record: ObjectiveRecord) -> Node:
    return Node(
        record.objective_id,
        record.plan_id,
        record.parent_id,
        NodeKind(record.kind),
        record.title,
        record.weight,
        dict(sorted(record.needs.items())),
        record.illustrative,
        record.position,
    )


async def import_plan(
    pool: asyncpg.Pool, plan_file: PlanFile, cause: Cause, today: date, write: WriteContext | None = None
) -> Imported:
    """The whole file in one transaction: the plan and its nodes, and their leads, roles,
    indicators and milestones (service_layer.plan_parts); a problem with any of them
    refuses it all, every problem reported at once."""
    async with pool.acquire() as conn, conn.transaction():
        await lock_plan(conn, plan_file.plan.plan_id)
        done = await import_plan_in(conn, plan_file.plan, plan_file.nodes, cause, (plan_file, today))
        await audit_plan_write(conn, write, f"plan:{done.plan_id}", done)
        return done


async def audit_plan_write(conn: asyncpg.Connection, write: WriteContext | None, subject: str, done: Imported) -> None:
    """The audit row of a plan's change, in its transaction (regia_shared.writes)."""
    if write is not None:
        await record_write(
            conn,
            write,
            subject=subject,
            effect={
                "plan_id": done.plan_id,
                "created": done.created,
                "updated": done.updated,
                "unchanged": done.unchanged,
                "removed": done.removed,
            },
        )


async def lock_plan(conn: asyncpg.Connection, plan_id: str) -> None:
    """Serialise writers of one plan until the transaction ends: an edit reads the plan and
    writes it whole, so two edits interleaved would lose one of them."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"plan:{plan_id}")


async def import_plan_in(
    conn: asyncpg.Connection,
    plan: Plan,
    nodes: list[Node],
    cause: Cause,
    parts: tuple[PlanFile, date] | None = None,
) -> Imported:
    """In the caller's transaction, holding the plan's lock. `parts`: the file whose leads,
    roles, indicators and milestones come too, and today's date (a node edit has none)."""
    # Before anything is read: the money that waited for its nodes is counted below, and a
    # node is removed only if no line points at it (`plans.funded`), also money the
    # projection may be writing now (objectives.DEFINITIONS_LOCK).
    await objectives.lock_definitions(conn)
    problems = problems_of(plan, nodes)
    ids = [n.node_id for n in nodes]
    for node_id, owner in (await plans.owners(conn, ids)).items():
        if owner != plan.plan_id:
            problems.append(
                Problem(
                    node_id,
                    "this id is already used " + (f"by plan {owner!r}" if owner else "by a standalone objective"),
                )
            )
    held = {o.objective_id: o for o in await objectives.of_plan(conn, plan.plan_id)}
    dropped = [i for i in held if i not in set(ids)]
    for node_id, lines in (await plans.funded(conn, dropped)).items():
        problems.append(Problem(node_id, f"cannot be removed: {lines} funding line(s) point at it"))
    if parts is not None:
        problems += await problems_of_parts(conn, *parts)
    if problems:
        raise PlanInvalid(problems)
    plan_before = await plans.get(conn, plan.plan_id)
    await plans.save(conn, plan)
    created = updated = 0
    events = []
    # Whose coverage may have moved: what was written, and the parents a node left.
    moved: set[str] = set()
    for node in _in_tree_order(nodes):  # parents are written before their children
        record = record_of(plan, node)
        before = held.get(node.node_id)
        if before is None:
            await objectives.insert(conn, record)
            created += 1
        elif before != record:
            await objectives.update(conn, record)
            updated += 1
            if before.parent_id is not None:
                moved.add(before.parent_id)
        else:
            continue
        moved.add(record.objective_id)
        events.append(defined_event(record, cause.correlation_id))
    for node_id in sorted(dropped, key=lambda i: -_depth(i, held)):
        try:
            async with conn.transaction():
                await objectives.delete(conn, node_id)
        except asyncpg.ForeignKeyViolationError as exc:
            raise PlanInvalid(
                [
                    Problem(
                        node_id, "cannot be removed: it still has indicators, milestones or children outside the file"
                    )
                ]
            ) from exc
    await outbox.append(conn, topics.OBJECTIVES, events)
    if parts is not None:
        await apply_parts(conn, parts[0], cause, parts[1])
    chosen = _to_recompute(plan, plan_before, ids, moved, dropped, held)
    if chosen:
        # One read for all their years, not one a node (3,101 nodes took 3,101 of them): the
        # plan's, and any other a chosen node has money or coverage in. Coverage, for a node
        # moved with a subtree funded outside the plan's years: the node holds those years'
        # rolled-up rows, and the parents it left and joined must be recomputed for them.
        years = set(range(plan.first_year, plan.last_year + 1)) | await coverage.years_held(conn, chosen)
        await recompute(conn, [(i, y) for i in chosen for y in sorted(years)], {})
    return Imported(plan.plan_id, created, updated, len(nodes) - created - updated, len(dropped))


def _to_recompute(
    plan: Plan,
    before: Plan | None,
    ids: list[str],
    moved: set[str],
    dropped: list[str],
    held: dict[str, ObjectiveRecord],
) -> list[str]:
    """The nodes whose coverage the import may have changed, for `recompute`, which adds
    their ancestors: every node, if the plan's years or thresholds changed (or the plan is
    new); otherwise the nodes written, and the parents a node moved out of or was dropped
    from. A node whose record, children and plan are as they were has the coverage it had:
    recomputing all 3,000 nodes of a region's plan for one edited node took 0.6-0.9 s under
    the definitions lock (docs/performance.md, the eighteenth session). What repairs a
    coverage gone wrong is the rebuild (`service_layer.coverage_rebuild`), not an import."""
    settings = (plan.first_year, plan.last_year, plan.at_risk_threshold_pct, plan.single_level_warning_pct)
    same_plan = before is not None and settings == (
        before.first_year,
        before.last_year,
        before.at_risk_threshold_pct,
        before.single_level_warning_pct,
    )
    if not same_plan:
        return list(ids)
    left = {parent for n in dropped if (parent := held[n].parent_id) is not None}
    return sorted((moved | left) & set(ids))


def _depth(node_id: str, held: dict[str, ObjectiveRecord]) -> int:
    depth, node = 0, held.get(node_id)
    while node is not None and node.parent_id is not None and depth < 100:
        depth, node = depth + 1, held.get(node.parent_id)
    return depth


@dataclass(frozen=True)
class PlanTree:
    plan: Plan
    rows: list[TreeRowText]
    roots: dict[str, list[YearCoverage]]  # the root nodes' coverage, for the plan's own figures
    version: tuple[int, int]  # the plan's versions in the same snapshot: what a kept copy is good for


async def plan_tree(pool: asyncpg.Pool, plan_id: str, fiscal_year: int | None, level: str | None) -> PlanTree:
    """The plan and its nodes with their JSON (adapters.plans.tree_rows), from one snapshot."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        plan = await plans.get(conn, plan_id)
        if plan is None:
            raise PlanNotFound(f"no plan {plan_id!r}", "plan_id")
        version = await plans.version(conn, plan_id)
        rows = await plans.tree_rows(conn, plan_id, plan.at_risk_threshold_pct, fiscal_year, level)
        roots = await coverage.of_plan_roots(conn, plan_id, fiscal_year)
    return PlanTree(plan, rows, roots, version)


async def plan_version(pool: asyncpg.Pool, plan_id: str) -> tuple[int, int]:
    """The plan's versions now (of its coverage and its definition: every write the tree
    shows moves one)."""
    async with pool.acquire() as conn:
        return await plans.version(conn, plan_id)


async def read_plan(pool: asyncpg.Pool, plan_id: str) -> tuple[Plan, list[Node], dict[str, str]]:
    async with pool.acquire() as conn:
        return await read_plan_in(conn, plan_id)


async def read_plan_in(conn: asyncpg.Connection, plan_id: str) -> tuple[Plan, list[Node], dict[str, str]]:
    plan = await plans.get(conn, plan_id)
    if plan is None:
        raise PlanNotFound(f"no plan {plan_id!r}", "plan_id")
    nodes = [node_of(o) for o in await objectives.of_plan(conn, plan_id)]
    leads = await plans.leads(conn, [n.node_id for n in nodes])
    return plan, _in_tree_order(nodes), leads


async def read_plan_file(pool: asyncpg.Pool, plan_id: str) -> PlanFile:
    """The plan as its file: what an export writes, and an import of it changes nothing."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        plan, nodes, _ = await read_plan_in(conn, plan_id)
        leads, roles, indicators, milestones = await parts_of_plan(conn, [n.node_id for n in nodes])
    return PlanFile(plan, nodes, leads, roles, indicators, milestones)


def _in_tree_order(nodes: list[Node]) -> list[Node]:
    """Parents before children, siblings by position: the order a plan file is written in."""
    children: dict[str | None, list[Node]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    ordered: list[Node] = []

    def walk(parent: str | None) -> None:
        for node in sorted(children.get(parent, []), key=lambda n: (n.position, n.node_id)):
            ordered.append(node)
            walk(node.node_id)

    walk(None)
    return ordered
