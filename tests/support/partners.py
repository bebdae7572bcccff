"""Partner events a test needs before funding can accept money from an institution."""

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.partners import PartnerKind, PartnerRegistered
from regia_shared.contracts.levels import GovernmentLevel


def institution_registered(partner_id: str, name: str, level: GovernmentLevel) -> Envelope:
    payload = PartnerRegistered(partner_id=partner_id, name=name, kind=PartnerKind.INSTITUTION, level=level)
    return Envelope.wrap(payload, key=partner_id, producer="partners")


def objective_defined(
    objective_id: str, title: str = "An objective", need_cents: int = 100_000_000, year: int = 2027
) -> Envelope:
    """What the objectives service publishes when an objective is defined."""
    from regia_shared.contracts.events.objectives import ObjectiveDefined, YearNeed

    payload = ObjectiveDefined(
        objective_id=objective_id,
        title=title,
        at_risk_threshold_pct=80,
        needs=[YearNeed(fiscal_year=year, need_cents=need_cents)],
    )
    return Envelope.wrap(payload, key=objective_id, producer="objectives")
