"""Roles on objectives, networks with memberships over time, and contacts' notification
preferences: the rules of changing them. Pure.

Like creates, every change is idempotent: asking for the state that already holds is a
no-op (answered 200, nothing published), so a client may retry after a timeout.

A membership covers the days from `joined_on` up to, not including, `left_on`: a partner
that leaves on a day is no longer a member that day, and may rejoin from it.
"""

from dataclasses import dataclass
from datetime import date

from regia_shared.contracts.events.partners import ObjectiveRole

from .commands import Cadence, Channel, EventKind, FormNetwork, Language, SetPreferences
from .errors import Conflict, InvalidPartner, NotFound


def role_assignable(role: ObjectiveRole) -> None:
    """The lead is one per objective and has its own endpoint and event; the roles set
    holds every other role."""
    if role is ObjectiveRole.LEAD:
        raise InvalidPartner("the lead is assigned with PUT /v1/objectives/{objective_id}/lead", "role")


@dataclass(frozen=True)
class Network:
    network_id: str
    name: str
    founded_on: date
    coordinator_partner_id: str | None
    objective_id: str | None


@dataclass(frozen=True)
class Membership:
    partner_id: str
    joined_on: date
    left_on: date | None = None

    def covers(self, day: date) -> bool:
        return self.joined_on <= day and (self.left_on is None or day < self.left_on)


def network_to_form(command: FormNetwork, existing: Network | None) -> Network | None:
    """The network to create, or None when exactly this network already exists."""
    wanted = Network(
        command.network_id, command.name, command.founded_on, command.coordinator_partner_id, command.objective_id
    )
    if existing is None:
        return wanted
    if existing != wanted:
        raise Conflict(f"network {command.network_id!r} already exists with other data", "network_id")
    return None


def _latest(history: list[Membership]) -> Membership | None:
    return max(history, key=lambda m: m.joined_on, default=None)


def membership_to_open(
    network: Network, history: list[Membership], partner_id: str, joined_on: date
) -> Membership | None:
    """The membership a partner opens by joining, or None when it is already a member
    since that very day. `history` is that partner's memberships of the network."""
    if joined_on < network.founded_on:
        raise InvalidPartner(f"the network was founded on {network.founded_on.isoformat()}", "joined_on")
    latest = _latest(history)
    if latest is not None and latest.left_on is None:
        if latest.joined_on == joined_on:
            return None
        raise Conflict(f"{partner_id!r} is a member since {latest.joined_on.isoformat()}", "joined_on")
    if latest is not None and latest.left_on is not None and joined_on < latest.left_on:
        raise InvalidPartner(f"{partner_id!r} was a member until {latest.left_on.isoformat()}", "joined_on")
    return Membership(partner_id, joined_on)


def membership_to_close(history: list[Membership], partner_id: str, left_on: date) -> Membership | None:
    """The open membership, closed on `left_on`; None when it was already closed that day."""
    latest = _latest(history)
    if latest is None:
        raise NotFound(f"{partner_id!r} was never a member", "partner_id")
    if latest.left_on is not None:
        if latest.left_on == left_on:
            return None
        raise NotFound(f"{partner_id!r} left on {latest.left_on.isoformat()}", "partner_id")
    if left_on <= latest.joined_on:
        raise InvalidPartner(f"{partner_id!r} joined on {latest.joined_on.isoformat()}", "left_on")
    return Membership(partner_id, latest.joined_on, left_on)


def members_on(history: list[Membership], day: date) -> list[Membership]:
    """The memberships that cover `day`, by partner id."""
    return sorted((m for m in history if m.covers(day)), key=lambda m: m.partner_id)


@dataclass(frozen=True)
class Preferences:
    channels: tuple[Channel, ...]
    language: Language
    cadence: Cadence
    event_kinds: tuple[EventKind, ...]


def preferences_from(command: SetPreferences) -> Preferences:
    """The preferences in a canonical form (each channel and kind once, sorted), so that the
    same choice sent in another order is recognised as no change."""
    return Preferences(
        tuple(sorted(set(command.channels))), command.language, command.cadence, tuple(sorted(set(command.event_kinds)))
    )


def preferences_change(current: Preferences | None, wanted: Preferences) -> bool:
    return current != wanted
