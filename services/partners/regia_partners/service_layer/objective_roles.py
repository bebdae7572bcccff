"""Who leads an objective and which roles partners hold on it. Each use case runs in one
transaction: a refused command writes nothing, an accepted one writes its state and its
outbox event together."""

import asyncpg

from regia_shared.contracts.events.partners import (
    ObjectiveLeadAssigned,
    ObjectiveRole,
    ObjectiveRoleAssigned,
    ObjectiveRoleWithdrawn,
)
from regia_shared.contracts.events.plans import PlanPartnersDeclared
from regia_shared.writes import WriteContext, record_write

from ..adapters import known_objectives, leads, partners, roles
from ..domain.commands import AssignLead
from ..domain.errors import ObjectiveNotFound, PartnerNotFound
from ..domain.partner import lead_changes
from ..domain.relations import role_assignable
from .outcome import Outcome, publish


async def known_objective(conn: asyncpg.Connection, objective_id: str) -> None:
    """Refuse an objective this service has not heard defined. It may exist all the same,
    defined a moment ago: the definition reaches this service through the objectives
    service's events, so the message asks to retry rather than calling the id wrong."""
    if await known_objectives.get(conn, objective_id) is None:
        raise ObjectiveNotFound(
            f"no objective or plan node {objective_id!r} is known to the partners service. If it was defined "
            "moments ago, the partners service may not have learnt it yet (it does from the objectives "
            "service's events, within seconds): retry shortly",
            "objective_id",
        )


async def _audit(
    conn: asyncpg.Connection, write: WriteContext | None, objective_id: str, outcome: Outcome, **effect: object
) -> None:
    """A role change's audit row, in its transaction (regia_shared.writes)."""
    if write is not None:
        if not outcome.created and write.status == 201:
            write.status = 200  # the route answers 200 when nothing changed
        changed = {"changed": outcome.created, "event_id": str(outcome.event_id) if outcome.event_id else None}
        await record_write(conn, write, subject=f"objective:{objective_id}", effect={**effect, **changed})


async def assign_lead(
    pool: asyncpg.Pool, objective_id: str, command: AssignLead, correlation_id: str, write: WriteContext | None = None
) -> Outcome[str]:
    async with pool.acquire() as conn, conn.transaction():
        await known_objective(conn, objective_id)
        if await partners.get(conn, command.partner_id) is None:
            raise PartnerNotFound(f"no partner {command.partner_id!r}", "partner_id")
        await leads.lock(conn, objective_id)
        if not lead_changes(await leads.current(conn, objective_id), command.partner_id):
            unchanged: Outcome[str] = Outcome(command.partner_id, None)
            await _audit(conn, write, objective_id, unchanged, lead=command.partner_id)
            return unchanged
        await leads.assign(conn, objective_id, command.partner_id)
        # Keyed by objective: successive leads of one objective stay in order.
        event = await publish(
            conn,
            ObjectiveLeadAssigned(
                objective_id=objective_id,
                partner_id=command.partner_id,
            ),
            key=objective_id,
            correlation_id=correlation_id,
        )
        done = Outcome(command.partner_id, event)
        await _audit(conn, write, objective_id, done, lead=command.partner_id)
        return done


async def assign_role(
    pool: asyncpg.Pool,
    objective_id: str,
    partner_id: str,
    role: ObjectiveRole,
    correlation_id: str,
    write: WriteContext | None = None,
) -> Outcome[ObjectiveRole]:
    return await _change_role(pool, objective_id, partner_id, role, correlation_id, write, assign=True)


async def withdraw_role(
    pool: asyncpg.Pool,
    objective_id: str,
    partner_id: str,
    role: ObjectiveRole,
    correlation_id: str,
    write: WriteContext | None = None,
) -> Outcome[ObjectiveRole]:
    """Withdrawing a role the partner does not hold is a no-op: a retried DELETE succeeds."""
    return await _change_role(pool, objective_id, partner_id, role, correlation_id, write, assign=False)


async def _change_role(
    pool: asyncpg.Pool,
    objective_id: str,
    partner_id: str,
    role: ObjectiveRole,
    correlation_id: str,
    write: WriteContext | None,
    *,
    assign: bool,
) -> Outcome[ObjectiveRole]:
    role_assignable(role)
    async with pool.acquire() as conn, conn.transaction():
        if assign:
            # Withdrawing needs no such check: a role is only held on a known objective,
            # and withdrawing one not held changes nothing.
            await known_objective(conn, objective_id)
        if await partners.get(conn, partner_id) is None:
            raise PartnerNotFound(f"no partner {partner_id!r}", "partner_id")
        await roles.lock(conn, objective_id)
        changed = await (roles.add if assign else roles.remove)(conn, objective_id, partner_id, role)
        effect = {"partner_id": partner_id, "role": role.value, "assigned" if assign else "withdrawn": True}
        if not changed:
            unchanged: Outcome[ObjectiveRole] = Outcome(role, None)
            await _audit(conn, write, objective_id, unchanged, **effect)
            return unchanged
        event_type = ObjectiveRoleAssigned if assign else ObjectiveRoleWithdrawn
        event = await publish(
            conn,
            event_type(objective_id=objective_id, partner_id=partner_id, role=role),
            key=objective_id,
            correlation_id=correlation_id,
        )
        done = Outcome(role, event)
        await _audit(conn, write, objective_id, done, **effect)
        return done


async def apply_declared(conn: asyncpg.Connection, declared: PlanPartnersDeclared, correlation_id: str) -> int:
    """A plan file's leads and roles, as the objectives service declared them on import, in
    the caller's transaction (the consumer's: all of one plan's or none). Each change is
    made and published as the lead and role endpoints make it, keeping the import's
    correlation id; what already holds publishes nothing. A partner the objectives service
    named is one this service registered (it checks against the PartnerRegistered events),
    and partners are never deleted, so the foreign keys hold. Returns the changes made."""
    changes = 0
    # Trusted: the objectives service defined these nodes in the transaction that declared
    # them, so they exist even if their ObjectiveDefined is still on its way here.
    await known_objectives.record_named(
        conn,
        [
            *(lead.objective_id for lead in declared.leads),
            *(r.objective_id for r in declared.roles),
            *declared.role_nodes,
        ],
    )
    for lead in declared.leads:
        await leads.lock(conn, lead.objective_id)
        if not lead_changes(await leads.current(conn, lead.objective_id), lead.partner_id):
            continue
        await leads.assign(conn, lead.objective_id, lead.partner_id)
        event = ObjectiveLeadAssigned(objective_id=lead.objective_id, partner_id=lead.partner_id)
        await publish(conn, event, key=lead.objective_id, correlation_id=correlation_id)
        changes += 1
    wanted = {(r.objective_id, r.partner_id, r.role) for r in declared.roles}
    for objective_id in declared.role_nodes:
        await roles.lock(conn, objective_id)
        held = {
            (objective_id, r["partner_id"], ObjectiveRole(r["role"]))
            for r in await roles.of_objective(conn, objective_id)
            if r["role"] != ObjectiveRole.LEAD.value
        }
        mine = {w for w in wanted if w[0] == objective_id}
        for _, partner_id, role in sorted(held - mine):
            await roles.remove(conn, objective_id, partner_id, role)
            withdrawn = ObjectiveRoleWithdrawn(objective_id=objective_id, partner_id=partner_id, role=role)
            await publish(conn, withdrawn, key=objective_id, correlation_id=correlation_id)
            changes += 1
        for _, partner_id, role in sorted(mine - held):
            await roles.add(conn, objective_id, partner_id, role)
            assigned = ObjectiveRoleAssigned(objective_id=objective_id, partner_id=partner_id, role=role)
            await publish(conn, assigned, key=objective_id, correlation_id=correlation_id)
            changes += 1
    return changes
