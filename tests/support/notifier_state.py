"""A state the notifier knows of an objective before its lead is assigned.

A lead assigned before the notifier knows any status of its objective is owed a briefing,
told with the objective's first status (regia_notifier.adapters.owed_briefings). A test
about the alerts of a status change, whose directory assigns the lead first, would then
also see that briefing: it publishes this first, a funded year long past, which leaves the
lead nothing to be briefed on whichever of the two the notifier applies first, and waits
until the notifier has applied it."""

import os

import asyncpg

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import CoverageStatus, ObjectiveStatusChanged

from . import kafka
from .wait import eventually


def funded_year(objective_id: str = "miglio-blu", title: str = "Miglio Blu") -> Envelope:
    payload = ObjectiveStatusChanged(
        objective_id=objective_id,
        title=title,
        fiscal_year=2020,
        previous_status=None,
        status=CoverageStatus.FUNDED,
        coverage_bp=10_000,
        need_cents=1_000_00,
        committed_cents=1_000_00,
        at_risk_threshold_pct=80,
    )
    return Envelope.wrap(payload, key=objective_id, producer="objectives")


async def applied(event_id: object) -> bool:
    """Whether the notifier's inbox holds the event (the test system's database)."""
    conn = await asyncpg.connect(os.environ["REGIA_DATABASE_URL"])
    try:
        return bool(await conn.fetchval("SELECT count(*) FROM notifier.inbox WHERE event_id = $1", event_id))
    finally:
        await conn.close()


async def known_before_its_lead(bootstrap: str, objective_id: str = "miglio-blu", title: str = "Miglio Blu") -> None:
    """Publish a funded year of the objective and wait until the notifier has applied it."""
    known = funded_year(objective_id, title)
    await kafka.publish_objectives(bootstrap, [known])
    await eventually(lambda: applied(known.event_id), what=f"the notifier knowing {objective_id} before its lead")
