"""Forming networks of partners, and partners joining and leaving them over time. Each use
case runs in one transaction: a refused command writes nothing, an accepted one writes its
state and its outbox event together."""

import asyncpg

from regia_shared.contracts.events.partners import NetworkFormed, NetworkMemberJoined, NetworkMemberLeft

from ..adapters import networks, partners
from ..domain.commands import FormNetwork, JoinNetwork, LeaveNetwork
from ..domain.errors import NotFound, PartnerNotFound
from ..domain.relations import Membership, Network, membership_to_close, membership_to_open, network_to_form
from .objective_roles import known_objective
from .outcome import Outcome, publish


async def form_network(pool: asyncpg.Pool, command: FormNetwork, correlation_id: str) -> Outcome[Network]:
    async with pool.acquire() as conn, conn.transaction():
        coordinator = command.coordinator_partner_id
        if coordinator is not None and await partners.get(conn, coordinator) is None:
            raise PartnerNotFound(f"no partner {coordinator!r}", "coordinator_partner_id")
        if command.objective_id is not None:
            # Like a lead or a role: a network works towards an objective that exists.
            await known_objective(conn, command.objective_id)
        existing = await networks.get(conn, command.network_id)
        network = network_to_form(command, existing)
        if network is None:
            assert existing is not None  # None is "exactly this network exists already"
            return Outcome(existing, None)
        if not await networks.insert(conn, network):
            existing = await networks.get(conn, command.network_id)
            network_to_form(command, existing)
            assert existing is not None  # the insert met its row, and networks are never deleted
            return Outcome(existing, None)
        event = await publish(
            conn,
            NetworkFormed(
                network_id=network.network_id,
                name=network.name,
                founded_on=network.founded_on,
                coordinator_partner_id=network.coordinator_partner_id,
                objective_id=network.objective_id,
            ),
            key=network.network_id,
            correlation_id=correlation_id,
        )
        return Outcome(network, event)


async def _locked_network(conn: asyncpg.Connection, network_id: str, partner_id: str) -> Network:
    network = await networks.get(conn, network_id, lock=True)
    if network is None:
        raise NotFound(f"no network {network_id!r}", "network_id")
    if await partners.get(conn, partner_id) is None:
        raise PartnerNotFound(f"no partner {partner_id!r}", "partner_id")
    return network


async def join_network(
    pool: asyncpg.Pool, network_id: str, partner_id: str, command: JoinNetwork, correlation_id: str
) -> Outcome[Membership]:
    async with pool.acquire() as conn, conn.transaction():
        network = await _locked_network(conn, network_id, partner_id)
        history = await networks.history(conn, network_id, partner_id)
        membership = membership_to_open(network, history, partner_id, command.joined_on)
        if membership is None:
            return Outcome(Membership(partner_id, command.joined_on), None)
        await networks.open_membership(conn, network_id, membership)
        # Keyed by network: a partner's joining and leaving stay in order.
        event = await publish(
            conn,
            NetworkMemberJoined(
                network_id=network_id,
                partner_id=partner_id,
                joined_on=membership.joined_on,
            ),
            key=network_id,
            correlation_id=correlation_id,
        )
        return Outcome(membership, event)


async def leave_network(
    pool: asyncpg.Pool, network_id: str, partner_id: str, command: LeaveNetwork, correlation_id: str
) -> Outcome[Membership]:
    async with pool.acquire() as conn, conn.transaction():
        await _locked_network(conn, network_id, partner_id)
        history = await networks.history(conn, network_id, partner_id)
        membership = membership_to_close(history, partner_id, command.left_on)
        if membership is None:
            return Outcome(max(history, key=lambda m: m.joined_on), None)
        await networks.close_membership(conn, network_id, membership)
        event = await publish(
            conn,
            NetworkMemberLeft(
                network_id=network_id,
                partner_id=partner_id,
                left_on=command.left_on,
            ),
            key=network_id,
            correlation_id=correlation_id,
        )
        return Outcome(membership, event)
