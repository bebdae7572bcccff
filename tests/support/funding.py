"""Funding events as the funding service publishes them, for tests that feed consumers."""

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.funding import (
    FundingCommitted,
    FundingDisbursed,
    FundingReallocated,
    FundingRevised,
    FundingRevoked,
)
from regia_shared.contracts.levels import GovernmentLevel

_TYPES = {
    "commit": FundingCommitted,
    "revise": FundingRevised,
    "revoke": FundingRevoked,
    "disburse": FundingDisbursed,
    "reallocate": FundingReallocated,
}


def line_event(
    kind: str,
    line_id: str,
    objective_id: str,
    committed: int,
    version: int,
    *,
    year: int = 2027,
    level: GovernmentLevel = GovernmentLevel.REGIONE,
    institution: str = "regione-liguria",
    delta: int = 0,
    disbursed: int = 0,
    history: bool = False,
) -> Envelope:
    payload = _TYPES[kind](
        line_id=line_id,
        institution_id=institution,
        level=level,
        objective_id=objective_id,
        fiscal_year=year,
        committed_cents=committed,
        disbursed_cents=disbursed,
        line_version=version,
        delta_cents=delta,
        history=history,
    )
    return Envelope.wrap(payload, key=objective_id, producer="funding")
