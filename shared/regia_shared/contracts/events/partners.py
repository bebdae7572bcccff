"""Events published by the partners service on `regia.partners.v1`."""

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import EmailStr, Field

from regia_shared.contracts.events.envelope import EventPayload
from regia_shared.contracts.levels import GovernmentLevel


class PartnerKind(StrEnum):
    INSTITUTION = "INSTITUTION"
    ENTERPRISE = "ENTERPRISE"
    ASSOCIATION = "ASSOCIATION"
    TRADE_UNION = "TRADE_UNION"
    EMPLOYER_ASSOCIATION = "EMPLOYER_ASSOCIATION"
    TRAINING_BODY = "TRAINING_BODY"
    UNIVERSITY = "UNIVERSITY"
    RESEARCH_BODY = "RESEARCH_BODY"
    EMPLOYMENT_AGENCY = "EMPLOYMENT_AGENCY"


class PartnerRegistered(EventPayload):
    partner_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    kind: PartnerKind
    level: GovernmentLevel | None = Field(
        default=None, description="Set for institutions and funders: the level they fund at"
    )
    # Optional so that events published before partners had a territory still read.
    territory: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The area the partner serves or governs, e.g. 'Comune della Spezia', 'Liguria', 'Italia'",
    )


class ContactAdded(EventPayload):
    partner_id: str = Field(min_length=1, max_length=100)
    contact_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    email: EmailStr
    language: Literal["it", "en"] = "it"


class ObjectiveLeadAssigned(EventPayload):
    objective_id: str = Field(min_length=1, max_length=100)
    partner_id: str = Field(min_length=1, max_length=100)


class ObjectiveRole(StrEnum):
    """What a partner is to an objective or action. LEAD is the one the lead endpoint and
    ObjectiveLeadAssigned carry; the others are held alongside it, several per partner."""

    LEAD = "LEAD"
    IMPLEMENTING_BODY = "IMPLEMENTING_BODY"  # soggetto attuatore
    PROGRAMME_LEAD = "PROGRAMME_LEAD"  # capofila
    PARTNER = "PARTNER"
    FUNDER = "FUNDER"


class ObjectiveRoleAssigned(EventPayload):
    objective_id: str = Field(min_length=1, max_length=100)
    partner_id: str = Field(min_length=1, max_length=100)
    role: ObjectiveRole


class ObjectiveRoleWithdrawn(EventPayload):
    objective_id: str = Field(min_length=1, max_length=100)
    partner_id: str = Field(min_length=1, max_length=100)
    role: ObjectiveRole


class NetworkFormed(EventPayload):
    network_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    founded_on: date
    coordinator_partner_id: str | None = Field(default=None, min_length=1, max_length=100)
    objective_id: str | None = Field(default=None, min_length=1, max_length=100)


class NetworkMemberJoined(EventPayload):
    network_id: str = Field(min_length=1, max_length=100)
    partner_id: str = Field(min_length=1, max_length=100)
    joined_on: date


class NetworkMemberLeft(EventPayload):
    network_id: str = Field(min_length=1, max_length=100)
    partner_id: str = Field(min_length=1, max_length=100)
    left_on: date


class ContactPreferencesChanged(EventPayload):
    partner_id: str = Field(min_length=1, max_length=100)
    contact_id: str = Field(min_length=1, max_length=100)
    channels: list[Literal["email", "webhook"]] = Field(min_length=1)
    language: Literal["it", "en"]
    cadence: Literal["immediate", "daily_digest"]
    event_kinds: list[Literal["status_changed", "funding_dropped", "line_revoked", "review_closed"]]
