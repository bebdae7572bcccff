"""What an administrator asks the partners service to do, as validated commands.

Ids are slugs (no slash, no spaces) because they travel as Kafka keys and URL segments.
"""

from datetime import date
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from regia_shared.contracts.alert_kinds import ALERT_KINDS, Cadence, KindCadence, alert_kind
from regia_shared.contracts.events.partners import ObjectiveRole, PartnerKind
from regia_shared.contracts.levels import GovernmentLevel

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
Id = Annotated[str, Field(min_length=1, max_length=100, pattern=ID_PATTERN)]
# No control characters: a name is put in e-mail headers, where a line break would forge one.
Name = Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]*$")]
# Stripped before the length check (str_strip_whitespace), so a blank territory is refused.
Territory = Annotated[str, Field(min_length=1, max_length=200)]
Language = Literal["it", "en"]


def contact_address(value: str) -> str:
    """A contact's e-mail address, checked and in its one normalised form.

    Internationalised addresses are accepted (`josé@comune.it`, `info@città.it`): the
    notifier sends a non-ASCII domain as IDNA to any server and a non-ASCII local part
    with SMTPUTF8. Kept as email-validator normalises it: NFC, the domain in lower case
    and in Unicode (`info@xn--citt-3na.it` is kept as `info@città.it`), the local part as
    typed (only the receiving server may fold its case). Refused: what is not a bare
    address (a display name, `Maria <maria@x.it>`, belongs in `name`), quoted local parts,
    IP literals, special-use domains (.local, .test...) and a local part over 64 octets,
    which RFC 5321 servers are not obliged to take."""
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise PydanticCustomError("value_error", "not a valid e-mail address: {reason}", {"reason": str(exc)}) from None
    if len(checked.local_part.encode("utf-8")) > 64:
        raise PydanticCustomError(
            "value_error", "not a valid e-mail address: the part before the @ is longer than 64 bytes (RFC 5321)"
        )
    return checked.normalized


# The length bound first, so a huge string is refused before it is parsed.
Email = Annotated[
    str, Field(min_length=3, max_length=320, json_schema_extra={"format": "idn-email"}), AfterValidator(contact_address)
]


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
    email: Email
    language: Language = "it"


class _Edit(_Command):
    """A PATCH: the fields given are changed, the others kept; at least one is given."""

    @model_validator(mode="after")
    def _something(self) -> "_Edit":
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class EditPartner(_Edit):
    """What may change of a partner. Its id, kind and level never do: they are what others
    keep it by (funding accepts money per level). `territory: null` clears the territory."""

    name: Name | None = None
    territory: Territory | None = None

    @model_validator(mode="after")
    def _name_not_cleared(self) -> "EditPartner":
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("a partner keeps a name: give the new one, or leave name out")
        return self


class EditContact(_Edit):
    """What may change of a contact: name, address and language; not its partner or id."""

    name: Name | None = None
    email: Email | None = None
    language: Language | None = None

    @model_validator(mode="after")
    def _nothing_cleared(self) -> "EditContact":
        cleared = sorted(f for f in self.model_fields_set if getattr(self, f) is None)
        if cleared:
            raise ValueError(
                f"{cleared[0]} cannot be null: erase the contact instead (POST /v1/contacts/{{id}}/erasure)"
            )
        return self


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
# Kinds are strings checked against the one list (regia_shared.contracts.alert_kinds), so a
# new kind of alert is accepted here the day it is added there.
EventKind = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(alert_kind)]
KindChoices = Annotated[dict[EventKind, KindCadence], Field(max_length=50)]


def _every_event_kind() -> list[str]:
    return list(ALERT_KINDS)


class SetPreferences(_Command):
    """An administrator's whole choice for a contact: what replaces what was set.
    `cadence` is how the contact gets by e-mail each kind `kinds` does not name; `kinds`
    names a kind's own cadence, or `off` for no e-mail of it (webhooks follow
    `event_kinds` only)."""

    channels: Annotated[list[Channel], Field(min_length=1, max_length=10)]
    language: Language = "it"
    cadence: Cadence = "immediate"
    event_kinds: Annotated[list[EventKind], Field(max_length=20)] = Field(default_factory=_every_event_kind)
    kinds: KindChoices = Field(default_factory=dict)


class ChooseOwnPreferences(_Command):
    """What a contact changes on their preferences page: the cadence of some kinds (the
    others keep theirs) and, if given, the language of their e-mails."""

    kinds: KindChoices
    language: Language | None = None
