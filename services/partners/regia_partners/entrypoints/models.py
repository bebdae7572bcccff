"""The answers of the partners service's HTTP API, as typed models: what the OpenAPI
document shows is what a route returns (tests/unit/test_api_contract.py keeps it so)."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from regia_shared.contracts.alert_kinds import Cadence, KindCadence
from regia_shared.contracts.events.partners import ObjectiveRole, PartnerKind
from regia_shared.contracts.levels import GovernmentLevel

from ..domain.commands import Channel, Language

EventId = str | None
EVENT_ID = Field(description="The event this change published; null when nothing changed")
CHANGED = Field(description="Whether this request changed anything (a repeated request does not)")


class Partner(BaseModel):
    partner_id: str
    name: str
    kind: PartnerKind
    level: GovernmentLevel | None
    territory: str | None


class RegisteredPartner(Partner):
    event_id: EventId = EVENT_ID


class ListedPartner(Partner):
    registered_at: datetime


class PartnerEdited(Partner):
    changed: bool = CHANGED
    event_id: EventId = EVENT_ID


class Contact(BaseModel):
    contact_id: str
    partner_id: str
    name: str | None = Field(description="null once the contact was erased on request")
    email: str | None = Field(description="null once the contact was erased on request")
    language: Language
    erased_at: datetime | None = Field(
        default=None, description="When the contact's personal data was erased on request; null if it was not"
    )


class ContactEdited(Contact):
    changed: bool = CHANGED
    event_id: EventId = EVENT_ID


class ContactErasure(BaseModel):
    contact_id: str
    partner_id: str
    erased_at: datetime
    changed: bool = CHANGED
    event_id: EventId = EVENT_ID


class KnownObjective(BaseModel):
    """An objective or plan node as this service knows it, from the objectives service's events."""

    objective_id: str
    kind: str | None = Field(description="VISION, PROGRAMME, OBJECTIVE or ACTION; null until its definition arrives")
    plan_id: str | None
    known_since: datetime


class ListedContact(Contact):
    added_at: datetime


class AddedContact(Contact):
    event_id: EventId = EVENT_ID


class PartnerDetails(ListedPartner):
    contacts: list[ListedContact] = Field(description="Every contact, in the order they were added")
    objectives_led: list[str] = Field(description="The objectives it leads, by id")


class Lead(BaseModel):
    objective_id: str
    partner_id: str


class LeadAssigned(Lead):
    changed: bool = CHANGED
    event_id: EventId = EVENT_ID


class Role(BaseModel):
    objective_id: str
    partner_id: str
    role: ObjectiveRole


class RoleAssigned(Role):
    event_id: EventId = EVENT_ID


class RoleChanged(Role):
    changed: bool = CHANGED
    event_id: EventId = EVENT_ID


class RoleHeld(BaseModel):
    partner_id: str
    role: ObjectiveRole = Field(description="LEAD for the objective's lead")
    assigned_at: datetime


class ContactPreferences(BaseModel):
    contact_id: str
    channels: list[Channel]
    language: Language
    cadence: Cadence
    event_kinds: list[str]
    kinds: dict[str, KindCadence] = Field(description="A kind's own e-mail cadence, where it differs; off: no e-mail")


class PreferencesChanged(ContactPreferences):
    changed: bool = CHANGED
    event_id: EventId = EVENT_ID


class Network(BaseModel):
    network_id: str
    name: str
    founded_on: date
    coordinator_partner_id: str | None
    objective_id: str | None


class FormedNetwork(Network):
    event_id: EventId = EVENT_ID


class ListedNetwork(Network):
    member_count: int = Field(description="Members on `on`")
    on: date


class Member(BaseModel):
    partner_id: str
    joined_on: date
    left_on: date | None


class NetworkDetails(Network):
    on: date
    as_of: date = Field(description="The former name of `on`", deprecated=True)
    member_count: int
    members: list[Member]


class Membership(Member):
    network_id: str


class MembershipJoined(Membership):
    event_id: EventId = EVENT_ID


class MembershipLeft(Membership):
    changed: bool = CHANGED
    event_id: EventId = EVENT_ID


class KindCadenceChoice(BaseModel):
    kind: str
    cadence: KindCadence


class OwnPreferences(BaseModel):
    """What an e-mail's link shows its contact."""

    contact_id: str
    name: str
    language: Language
    purpose: str = Field(description="unsubscribe or preferences: what the link was made for")
    link_kinds: list[str] = Field(description="The kinds of alert the link is about")
    kinds: list[KindCadenceChoice] = Field(description="Each kind's e-mail cadence, in the order of the list of kinds")
    cadences: list[str] = Field(description="The cadences a kind can have")


class OwnPreferencesChanged(OwnPreferences):
    changed: bool = CHANGED
    event_id: EventId = EVENT_ID
