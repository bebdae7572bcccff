"""Roles on objectives, networks with memberships over time, and contacts' notification
preferences: the rules of changing them. Pure.

Like creates, every change is idempotent: asking for the state that already holds is a
no-op (answered 200, nothing published), so a client may retry after a timeout.

A membership covers the days from `joined_on` up to, not including, `left_on`: a partner
that leaves on a day is no longer a member that day, and may rejoin from it.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from regia_shared.contracts.alert_kinds import ALERT_KINDS, Cadence, KindCadence
from regia_shared.contracts.events.partners import ObjectiveRole

from .commands import Channel, ChooseOwnPreferences, FormNetwork, Language, SetPreferences
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
    """How a contact wants to be told, in one canonical form: each channel and kind once,
    sorted, and a kind's own cadence kept only where it says more than `cadence` and
    `event_kinds` do, so that the same choice, however it was sent, is no change.

    `event_kinds` are the kinds the contact hears of at all, by any channel; `cadence` is
    how each of them comes by e-mail, unless `kinds` gives that kind its own cadence, or
    `off`: no e-mail of it (its webhook calls still go)."""

    channels: tuple[Channel, ...]
    language: Language
    cadence: Cadence
    event_kinds: tuple[str, ...]
    kinds: tuple[tuple[str, KindCadence], ...] = ()

    def email_cadence(self, kind: str) -> KindCadence:
        """How the contact gets alerts of `kind` by e-mail, `off` included."""
        if "email" not in self.channels or kind not in self.event_kinds:
            return "off"
        return dict(self.kinds).get(kind, self.cadence)

    def email_cadences(self) -> dict[str, KindCadence]:
        """Every kind of alert, in the order of the list, with its e-mail cadence."""
        return {kind: self.email_cadence(kind) for kind in ALERT_KINDS}


def canonical(
    channels: Iterable[Channel],
    language: Language,
    cadence: Cadence,
    event_kinds: Iterable[str],
    kinds: Mapping[str, KindCadence],
) -> Preferences:
    heard = tuple(sorted(set(event_kinds)))
    own = tuple(sorted((k, c) for k, c in kinds.items() if k in heard and c != cadence))
    return Preferences(tuple(sorted(set(channels))), language, cadence, heard, own)


def preferences_from(command: SetPreferences) -> Preferences:
    """An administrator's choice, in the canonical form."""
    return canonical(command.channels, command.language, command.cadence, command.event_kinds, command.kinds)


def default_preferences(language: Language) -> Preferences:
    """What a contact with no preferences gets (the notifier's defaults): every kind, by
    every channel, each e-mail as it happens, in the language it was registered with."""
    return canonical(("email", "webhook"), language, "immediate", ALERT_KINDS, {})


def unsubscribed(current: Preferences, kinds: Iterable[str] | None) -> Preferences:
    """`current` with no more e-mail of `kinds` (None: of any kind). A kind this version
    does not know (a link older than its removal) is passed over; the rest is kept."""
    off = ALERT_KINDS if kinds is None else [k for k in kinds if k in ALERT_KINDS]
    own: dict[str, KindCadence] = {**dict(current.kinds), **dict.fromkeys(off, "off")}
    return canonical(current.channels, current.language, current.cadence, current.event_kinds, own)


def chosen(current: Preferences, command: ChooseOwnPreferences) -> Preferences:
    """`current` with the cadences a contact chose on their page. Choosing e-mails of a
    kind the contact heard nothing of, or got no e-mail at all, turns that on for it, and
    for it alone: the kinds not named keep getting what they got."""
    channels, heard = set(current.channels), set(current.event_kinds)
    own: dict[str, KindCadence] = dict(current.kinds)
    if "email" not in channels and any(c != "off" for c in command.kinds.values()):
        own |= dict.fromkeys((k for k in ALERT_KINDS if k not in command.kinds), "off")
        channels.add("email")
    for kind, cadence in command.kinds.items():
        if cadence != "off":
            heard.add(kind)
        own[kind] = cadence
    return canonical(channels, command.language or current.language, current.cadence, heard, own)


def preferences_change(current: Preferences | None, wanted: Preferences) -> bool:
    return current != wanted
