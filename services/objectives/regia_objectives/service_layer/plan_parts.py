"""What a plan file holds beyond its tree, imported in the plan's own transaction: the
indicators (with their targets) and milestones of its nodes, which this service owns, and
the leads and roles, which the partners service owns. For those, the import checks that
every partner named is registered, records them as the plan shows them, and states them
in a PlanPartnersDeclared event in the same outbox, which the partners service applies
(docs/architecture.md): the plan and its leads are committed together or not at all.

A node whose entry has no `roles`, `indicators` or `milestones` key keeps what it has;
with the key, the file's list is the whole set (docs/domain.md, "The plan file")."""

from datetime import date

import asyncpg

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.partners import ObjectiveRole
from regia_shared.contracts.events.plans import DeclaredLead, DeclaredRole, PlanPartnersDeclared
from regia_shared.messaging import outbox

from ..adapters import indicators, plan_parts, plans
from ..domain.indicators import Indicator
from ..domain.milestones import Milestone, known_overdue_at_definition
from ..domain.plan_file import PlanFile, PlannedIndicator
from ..domain.tree import Problem
from .indicators import publish_reached
from .projection import PRODUCER, Cause

# How an unknown partner is refused: `regia plan import` knows it by these words, and
# tries again while the objectives service may not have heard of a partner just registered.
UNKNOWN_PARTNER = "no partner registered as"


async def problems_of_parts(conn: asyncpg.Connection, plan_file: PlanFile, today: date) -> list[Problem]:
    """What the database or the clock finds wrong with the file's leads, roles, indicators
    and milestones, each at its place in the file."""
    found: list[Problem] = []
    named = set(plan_file.leads.values()) | {p for held in plan_file.roles.values() for p, _ in held}
    known = await plan_parts.known_partners(conn, sorted(named))
    unknown = UNKNOWN_PARTNER + " {!r}: register it with the partners service first (POST /v1/partners)"
    for node_id, partner_id in plan_file.leads.items():
        if partner_id not in known:
            found.append(Problem(*plan_file.located(f"lead:{node_id}", node_id, unknown.format(partner_id))))
    for node_id, held in plan_file.roles.items():
        for partner_id, role in held:
            if partner_id not in known:
                key = f"role:{node_id}:{partner_id}:{role.value}"
                found.append(Problem(*plan_file.located(key, node_id, unknown.format(partner_id))))
    plan_id = plan_file.plan.plan_id
    listed = {
        "indicators": {p.indicator.indicator_id for held in plan_file.indicators.values() for p in held},
        "milestones": {m.milestone_id for held in plan_file.milestones.values() for m in held},
    }
    for table, ids in listed.items():
        what = table[:-1]
        for item_id, (node_id, owner) in (await plan_parts.owners(conn, table, sorted(ids))).items():
            if owner != plan_id:
                where = f"plan {owner!r}" if owner else "a standalone objective"
                message = f"the {what} id {item_id!r} is already used by {node_id!r} of {where}"
                found.append(Problem(*plan_file.located(f"{what}:{item_id}", item_id, message)))
    dropped = [i.indicator_id for i in await _indicators_dropped(conn, plan_file)]
    for indicator_id, n in (await plan_parts.measured(conn, dropped)).items():
        found.append(
            Problem(
                f"indicator {indicator_id}",
                f"cannot be removed: it has {n} measurement(s); keep it in the file (measurements are observations)",
            )
        )
    for listed_milestones in plan_file.milestones.values():
        for m in listed_milestones:
            if m.reached_on is not None and m.reached_on > today:
                message = f"reached_on {m.reached_on} is in the future (today is {today})"
                found.append(Problem(*plan_file.located(f"milestone:{m.milestone_id}", m.milestone_id, message)))
    return found


async def _indicators_dropped(conn: asyncpg.Connection, plan_file: PlanFile) -> list[Indicator]:
    """Indicators held on nodes whose file entry lists indicators, and not listed there."""
    listed = {p.indicator.indicator_id for held in plan_file.indicators.values() for p in held}
    return [i for i in await plan_parts.indicators_of(conn, list(plan_file.indicators)) if i.indicator_id not in listed]


async def apply_parts(conn: asyncpg.Connection, plan_file: PlanFile, cause: Cause, today: date) -> None:
    """In the import's transaction, after the nodes are written and every check passed."""
    if plan_file.indicators:
        await plan_parts.drop_indicators(conn, [i.indicator_id for i in await _indicators_dropped(conn, plan_file)])
        planned = [p for held in plan_file.indicators.values() for p in held]
        await plan_parts.save_indicators(conn, [p.indicator for p in planned])
        await plan_parts.set_targets(conn, {p.indicator.indicator_id: p.targets for p in planned})
    if plan_file.milestones:
        await _save_milestones(conn, plan_file, cause, today)
    role_rows = [(node, partner, role) for node, held in plan_file.roles.items() for partner, role in held]
    if plan_file.roles:
        await plan_parts.set_roles(conn, list(plan_file.roles), role_rows)
    if plan_file.leads:
        await plan_parts.set_leads(conn, plan_file.leads)
    if plan_file.leads or plan_file.roles:
        declared = PlanPartnersDeclared(
            plan_id=plan_file.plan.plan_id,
            leads=[DeclaredLead(objective_id=n, partner_id=p) for n, p in sorted(plan_file.leads.items())],
            roles=[DeclaredRole(objective_id=n, partner_id=p, role=r) for n, p, r in role_rows],
            role_nodes=sorted(plan_file.roles),
        )
        envelope = Envelope.wrap(
            declared, key=plan_file.plan.plan_id, producer=PRODUCER, correlation_id=cause.correlation_id
        )
        await outbox.append(conn, topics.OBJECTIVES, [envelope])


async def _save_milestones(conn: asyncpg.Connection, plan_file: PlanFile, cause: Cause, today: date) -> None:
    listed = [m for held in plan_file.milestones.values() for m in held]
    ids = {m.milestone_id for m in listed}
    on_nodes = await plan_parts.milestones_of(conn, list(plan_file.milestones))
    await plan_parts.drop_milestones(conn, [m.milestone_id for m in on_nodes if m.milestone_id not in ids])
    # As held before, wherever in the plan (one may move from node to node).
    before = {m.milestone_id: m for m in await plan_parts.milestones_by_id(conn, sorted(ids))}
    await plan_parts.save_milestones(
        conn, [(m, None if m.milestone_id in before else known_overdue_at_definition(m, today)) for m in listed]
    )
    for m in listed:  # reached with this import: announced as the API announces it
        was = before.get(m.milestone_id)
        if m.reached_on is not None and (was is None or was.reached_on is None):
            await publish_reached(conn, m, cause.correlation_id)


async def parts_of_plan(
    conn: asyncpg.Connection, node_ids: list[str]
) -> tuple[
    dict[str, str],
    dict[str, list[tuple[str, ObjectiveRole]]],
    dict[str, list[PlannedIndicator]],
    dict[str, list[Milestone]],
]:
    """The leads, roles, indicators (with targets) and milestones these nodes have."""
    held = await plan_parts.indicators_of(conn, node_ids)
    targets = await indicators.targets(conn, [i.indicator_id for i in held])
    by_node: dict[str, list[PlannedIndicator]] = {}
    for i in held:
        by_node.setdefault(i.objective_id, []).append(PlannedIndicator(i, targets.get(i.indicator_id, {})))
    milestones: dict[str, list[Milestone]] = {}
    for m in await plan_parts.milestones_of(conn, node_ids):
        milestones.setdefault(m.objective_id, []).append(m)
    return await plans.leads(conn, node_ids), await plan_parts.roles_of(conn, node_ids), by_node, milestones
