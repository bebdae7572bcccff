"""Events published by the partners service on `regia.partners.v1`."""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import EmailStr, Field

from regia_shared.contracts.alert_kinds import Cadence, KindCadence
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


class PartnerChanged(EventPayload):
    """A partner's editable facts after an administrator changed them: the whole partner, so
    a consumer replaces what it kept. The id, kind and level never change (kind and level
    say what the partner is and the level it funds at: funding's accounts rest on them)."""

    partner_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    kind: PartnerKind
    level: GovernmentLevel | None = None
    territory: str | None = Field(default=None, min_length=1, max_length=200)


class ContactChanged(EventPayload):
    """A contact after an administrator changed it: the whole contact, so a consumer
    replaces its copy. Keyed by partner, like ContactAdded, so it follows the creation."""

    partner_id: str = Field(min_length=1, max_length=100)
    contact_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    email: EmailStr
    language: Literal["it", "en"] = "it"


class ContactErased(EventPayload):
    """A contact's personal data was erased on request (GDPR art. 17). It carries none of it:
    a consumer erases its own copy by `contact_id`, and everything it holds of that person
    (addresses in its delivery records, the name in what it sent), keeping the rest. The id
    stays, so references hold; the contact is never told anything again. Keyed by partner."""

    partner_id: str = Field(min_length=1, max_length=100)
    contact_id: str = Field(min_length=1, max_length=100)


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
    """How a contact wants to be told, whole (it replaces what was said before).

    Version 2: `cadence` may be `weekly_digest`; `event_kinds` are kinds of alert as
    strings (regia_shared.contracts.alert_kinds lists them, and the list grows); `kinds`
    gives a kind its own e-mail cadence, or `off`; `reason` says why a contact changed it
    themselves. Version 1, in `partners_v1`, had none of these.

    A kind is heard of if it is in `event_kinds`; by e-mail, at `kinds[kind]` if given (no
    e-mail if that is `off`), else at `cadence`. Webhook calls follow `event_kinds` alone."""

    VERSION = 2

    partner_id: str = Field(min_length=1, max_length=100)
    contact_id: str = Field(min_length=1, max_length=100)
    channels: list[Literal["email", "webhook"]] = Field(min_length=1)
    language: Literal["it", "en"]
    cadence: Cadence = Field(description="How each kind heard of comes by e-mail, unless `kinds` says otherwise")
    event_kinds: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        description="The kinds of alert the contact hears of, by any channel"
    )
    # Optional, so that every version 1 payload is a version 2 payload too.
    kinds: dict[str, KindCadence] = Field(
        default_factory=dict,
        description="A kind's own e-mail cadence, or `off` for no e-mail of it; kinds not here follow `cadence`",
    )
    reason: str | None = Field(
        default=None,
        max_length=200,
        description="Why the contact changed them through a link of an e-mail: 'one-click unsubscribe' or "
        "'preferences page'; null when an administrator set them",
    )
