"""Partner events a test needs before funding can accept money from an institution."""

from regia_shared.events.envelope import Envelope
from regia_shared.events.partners import PartnerKind, PartnerRegistered
from regia_shared.levels import GovernmentLevel


def institution_registered(partner_id: str, name: str, level: GovernmentLevel) -> Envelope:
    payload = PartnerRegistered(partner_id=partner_id, name=name, kind=PartnerKind.INSTITUTION, level=level)
    return Envelope.wrap(payload, key=partner_id, producer="partners")
