"""Every event type by its name, so a consumer can parse an envelope's payload."""

from pydantic import ValidationError, create_model

from regia_shared.contracts.events import objectives_v1, partners_v1
from regia_shared.contracts.events.envelope import Envelope, EventPayload
from regia_shared.contracts.events.funding import (
    FundingCommitted,
    FundingDisbursed,
    FundingReallocated,
    FundingRevised,
    FundingRevoked,
    FundingRolledOver,
)
from regia_shared.contracts.events.notifications import AlertDelivered, AlertFailed
from regia_shared.contracts.events.objectives import (
    FundingNarrowedToOneLevel,
    IndicatorFellBehind,
    IndicatorMeasured,
    MilestoneReached,
    MilestoneWentOverdue,
    ObjectiveCoverageChanged,
    ObjectiveDefined,
    ObjectiveStatusChanged,
)
from regia_shared.contracts.events.partners import (
    ContactAdded,
    ContactChanged,
    ContactErased,
    ContactPreferencesChanged,
    NetworkFormed,
    NetworkMemberJoined,
    NetworkMemberLeft,
    ObjectiveLeadAssigned,
    ObjectiveRoleAssigned,
    ObjectiveRoleWithdrawn,
    PartnerChanged,
    PartnerRegistered,
)
from regia_shared.contracts.events.plans import AnnualReviewClosed, PlanPartnersDeclared, SingleLevelDependencyDetected

EVENT_TYPES: dict[str, type[EventPayload]] = {
    model.event_type(): model
    for model in (
        FundingCommitted,
        FundingRevised,
        FundingRevoked,
        FundingDisbursed,
        FundingReallocated,
        FundingRolledOver,
        ObjectiveDefined,
        ObjectiveCoverageChanged,
        ObjectiveStatusChanged,
        IndicatorMeasured,
        MilestoneReached,
        SingleLevelDependencyDetected,
        FundingNarrowedToOneLevel,
        MilestoneWentOverdue,
        IndicatorFellBehind,
        AnnualReviewClosed,
        PlanPartnersDeclared,
        PartnerRegistered,
        ContactAdded,
        ObjectiveLeadAssigned,
        ObjectiveRoleAssigned,
        ObjectiveRoleWithdrawn,
        NetworkFormed,
        NetworkMemberJoined,
        NetworkMemberLeft,
        ContactPreferencesChanged,
        PartnerChanged,
        ContactChanged,
        ContactErased,
        AlertDelivered,
        AlertFailed,
    )
}

# Earlier versions still read, by (type, version): events published before a version went
# up stay readable (a replay, a consumer catching up). Each earlier model accepts only
# payloads the current one accepts too, so a consumer always gets the current model.
EARLIER_VERSIONS: dict[tuple[str, int], type[EventPayload]] = {
    (model.event_type(), model.event_version()): model
    for model in (
        objectives_v1.ObjectiveCoverageChanged,
        objectives_v1.ObjectiveStatusChanged,
        partners_v1.ContactPreferencesChanged,
    )
}


class UnknownEventType(ValueError):
    pass


def parse_payload(envelope: Envelope) -> EventPayload:
    """The typed payload of an envelope; raises on an unknown type or version, or on a
    payload that does not satisfy its contract (the caller dead-letters it)."""
    model = EVENT_TYPES.get(envelope.type)
    if model is None:
        raise UnknownEventType(f"unknown event type {envelope.type!r}")
    if envelope.version != model.event_version():
        earlier = EARLIER_VERSIONS.get((envelope.type, envelope.version))
        if earlier is None:
            raise UnknownEventType(
                f"{envelope.type} version {envelope.version} is not supported "
                f"(this consumer reads version {model.event_version()})"
            )
        return model.model_validate(earlier.model_validate(envelope.payload).model_dump(mode="json"))
    return model.model_validate(envelope.payload)


FUNDING_LINE_EVENTS = (
    FundingCommitted,
    FundingRevised,
    FundingRevoked,
    FundingDisbursed,
    FundingReallocated,
    FundingRolledOver,
)


# An envelope model per event type whose payload is that type's model: the envelope and its
# payload are then read from the JSON in one pass, instead of the envelope first (its payload
# built as a dict) and the payload validated again from that dict. Only for the current
# version of each type: an earlier one is read through `parse_payload`.
_TYPED_ENVELOPES: dict[str, type[Envelope]] = {
    name: create_model(f"{name}Envelope", __base__=Envelope, payload=(model, ...))
    for name, model in EVENT_TYPES.items()
}


def read_typed(raw: bytes, type_name: str) -> tuple[Envelope, EventPayload] | None:
    """The envelope and its typed payload, read in one pass, when the record says it holds
    `type_name` (its `type` header) and it is that type's current version; None when it
    cannot be read that way, for any reason (another type or version inside, a broken
    envelope or payload): the caller then reads it with `Envelope.from_json` and
    `parse_payload`, which say exactly what is wrong. So the verdict on any record is the
    same either way; only the common case is cheaper.

    The envelope returned holds the payload model, not a dict, in its `payload`."""
    typed = _TYPED_ENVELOPES.get(type_name)
    if typed is None:
        return None
    try:
        envelope = typed.from_json(raw)
    except ValidationError:
        return None
    payload = envelope.payload
    if envelope.type != type_name or envelope.version != EVENT_TYPES[type_name].event_version():
        return None
    assert isinstance(payload, EventPayload)
    return envelope, payload
