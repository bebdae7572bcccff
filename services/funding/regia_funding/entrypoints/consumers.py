"""Kafka subscribers of the funding service: the institutions it may take money from
(partner events) and the objectives money may go to (objective events)."""

from collections.abc import Sequence
from datetime import date

import asyncpg

from regia_shared.contracts import fiscal, topics
from regia_shared.contracts.events.objectives import ObjectiveDefined
from regia_shared.contracts.events.partners import PartnerChanged, PartnerRegistered
from regia_shared.contracts.events.plans import AnnualReviewClosed
from regia_shared.messaging import consumer
from regia_shared.messaging.consumer import Received
from regia_shared.observability.logs import get_logger
from regia_shared.runtime import ServiceRuntime
from regia_shared.writes import WriteContext

from ..adapters import institutions, references
from ..config import FundingSettings
from ..service_layer.year_end import roll_over, window_opens_with

log = get_logger(__name__)


async def apply_partner_events(conn: asyncpg.Connection, events: Sequence[Received]) -> None:
    """Funders as the partners service registers them, and as it renames them later (a
    PartnerChanged is the whole partner; its level never changes): exports, the open data
    and the console show an institution by the name it has now."""
    for event in events:
        partner = event.payload
        assert isinstance(partner, PartnerRegistered | PartnerChanged)
        if partner.level is not None:  # only partners that fund at a level are funders
            await institutions.upsert(conn, partner.partner_id, partner.name, partner.level)


async def apply_objective_events(conn: asyncpg.Connection, events: Sequence[Received], today: date) -> None:
    for event in events:
        payload = event.payload
        if isinstance(payload, ObjectiveDefined):
            await references.remember_objective(
                conn,
                payload.objective_id,
                payload.title,
                plan_id=payload.plan_id,
                parent_id=payload.parent_id,
                kind=payload.kind,
                needs=[(n.fiscal_year, n.need_cents) for n in payload.needs],
            )
        elif isinstance(payload, AnnualReviewClosed) and await window_opens_with(conn, payload.fiscal_year):
            if not fiscal.has_ended(payload.fiscal_year, today):
                # One plan's review must not close a year for every institution before it
                # has ended (the objectives service refuses such a review; an older or a
                # foreign producer might not). Applied and left: the year stays open, for
                # the administrator or a later review to close once it has ended.
                log.warning(
                    "annual review of a year not yet ended: the budget window stays",
                    year=payload.fiscal_year,
                    plan=payload.plan_id,
                    today=today.isoformat(),
                )
                continue
            # The first review to close a year moves the budget window on; the reviews of
            # other plans for that year find it already moved and change nothing.
            # The review's own audit row (objectives, its correlation id) names who closed it.
            write = WriteContext(
                service="funding",
                actor=f"service:{event.envelope.producer}",
                channel="year-end",
                reason=f"annual review of plan {payload.plan_id} for {payload.fiscal_year} closed the year",
                method="KAFKA",
                route=topics.OBJECTIVES,
                path=f"{topics.OBJECTIVES}/{event.envelope.event_id}",
                request_id=str(event.envelope.event_id),
                status=200,
                correlation_id=event.envelope.correlation_id,
            )
            done = await roll_over(conn, payload.fiscal_year, event.envelope.correlation_id, today, write)
            log.info(
                "year rolled over after an annual review",
                year=done.closed_year,
                plan=payload.plan_id,
                lines=done.lines_rolled,
                cents=done.cents_rolled,
                redirected=len(done.redirected),
            )


def register(runtime: ServiceRuntime) -> None:
    polling = consumer.Polling.of(runtime.settings)
    settings = runtime.settings
    assert isinstance(settings, FundingSettings)
    consumer.subscribe_group(
        runtime.broker,
        lambda: runtime.pool,
        group="funding",
        subscriptions=[
            consumer.consumes(
                topics.PARTNERS,
                "funding.partners",
                [PartnerRegistered.event_type(), PartnerChanged.event_type()],
                apply_partner_events,
            ),
            consumer.consumes(
                topics.OBJECTIVES,
                "funding.objectives",
                [ObjectiveDefined.event_type(), AnnualReviewClosed.event_type()],
                lambda conn, events: apply_objective_events(conn, events, settings.fiscal_today()),
            ),
        ],
        polling=polling,
    )
