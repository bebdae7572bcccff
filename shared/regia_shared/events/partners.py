"""Events published by the partners service on `regia.partners.v1`."""

from enum import StrEnum
from typing import Literal

from pydantic import EmailStr, Field

from ..levels import GovernmentLevel
from .envelope import EventPayload


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


class ContactAdded(EventPayload):
    partner_id: str = Field(min_length=1, max_length=100)
    contact_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    email: EmailStr
    language: Literal["it", "en"] = "it"


class ObjectiveLeadAssigned(EventPayload):
    objective_id: str = Field(min_length=1, max_length=100)
    partner_id: str = Field(min_length=1, max_length=100)
