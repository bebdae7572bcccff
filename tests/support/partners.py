"""Partner events a test needs before funding can accept money from an institution."""

from typing import Any

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.partners import PartnerKind, PartnerRegistered
from regia_shared.contracts.levels import GovernmentLevel


def institution_registered(partner_id: str, name: str, level: GovernmentLevel) -> Envelope:
    payload = PartnerRegistered(partner_id=partner_id, name=name, kind=PartnerKind.INSTITUTION, level=level)
    return Envelope.wrap(payload, key=partner_id, producer="partners")


def objective_defined(
    objective_id: str,
    title: str = "An objective",
    need_cents: int = 100_000_000,
    year: int = 2027,
    kind: str = "OBJECTIVE",
) -> Envelope:
    """What the objectives service publishes when an objective is defined."""
    from regia_shared.contracts.events.objectives import ObjectiveDefined, YearNeed

    payload = ObjectiveDefined(
        objective_id=objective_id,
        title=title,
        at_risk_threshold_pct=80,
        needs=[YearNeed(fiscal_year=year, need_cents=need_cents)],
        kind=kind,
    )
    return Envelope.wrap(payload, key=objective_id, producer="objectives")


async def objectives_known(
    partners: Any, bootstrap: str, *objective_ids: str, announce: bool = True, base_url: str = ""
) -> None:
    """Make the partners service know these objectives, as it would once the objectives
    service defined them: publish their ObjectiveDefined (unless `announce` is False, when
    something else defines them) and wait until `GET /v1/objectives/{id}` answers 200, the
    moment leads and roles on them are accepted. `partners` is a client with the admin
    token, its base URL the partners service's (or `base_url` given)."""

    from . import kafka
    from .wait import eventually

    if announce:
        await kafka.publish_objectives(bootstrap, [objective_defined(i) for i in objective_ids])
    for objective_id in objective_ids:

        async def known(objective_id: str = objective_id) -> bool:
            return (await partners.get(f"{base_url}/v1/objectives/{objective_id}")).status_code == 200

        await eventually(known, what=f"the partners service knowing objective {objective_id!r}")


def broker_bootstrap() -> str:
    """The broker the services of a test talk to (`service_env` sets it)."""
    import os

    return os.environ["REGIA_KAFKA_BOOTSTRAP_SERVERS"]
