"""What an administrator asks the partners service to do, as validated commands.

Ids are slugs (no slash, no spaces) because they travel as Kafka keys and URL segments.
"""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from regia_shared.events.partners import ObjectiveRole, PartnerKind
from regia_shared.levels import GovernmentLevel

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
Id = Annotated[str, Field(min_length=1, max_length=100, pattern=ID_PATTERN)]
# No control characters: a name is put in e-mail headers, where a line break would forge one.
Name = Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]*$")]
# Stripped before the length check (str_strip_whitespace), so a blank territory is refused.
Territory = Annotated[str, Field(min_length=1, max_length=200)]
Language = Literal["it", "en"]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class RegisterPartner(_Command):
    partner_id: Id
    name: Name
    kind: PartnerKind
    level: GovernmentLevel | None = None
    territory: Territory | None = None


class AddContact(_Command):
    contact_id: Id | None = None
    name: Name
    email: EmailStr
    language: Language = "it"


class AssignLead(_Command):
    partner_id: Id


class AssignRole(_Command):
    role: ObjectiveRole


class FormNetwork(_Command):
    network_id: Id
    name: Name
    founded_on: date
    coordinator_partner_id: Id | None = None
    objective_id: Id | None = None


class JoinNetwork(_Command):
    joined_on: date


class LeaveNetwork(_Command):
    left_on: date


Channel = Literal["email", "webhook"]
Cadence = Literal["immediate", "daily_digest"]
EventKind = Literal["status_changed", "funding_dropped", "line_revoked", "review_closed"]


class SetPreferences(_Command):
    channels: Annotated[list[Channel], Field(min_length=1, max_length=10)]
    language: Language = "it"
    cadence: Cadence = "immediate"
    event_kinds: Annotated[list[EventKind], Field(max_length=20)] = Field(
        default_factory=lambda: ["status_changed", "funding_dropped", "line_revoked", "review_closed"])
