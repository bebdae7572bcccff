"""Kafka subscribers of the notifier: the partner directory, what objectives are, and the
events its rules look at (objectives' status and coverage changes and money narrowed to
one level, on their own topic; closed reviews, overdue milestones and indicators fallen
behind; revoked funding lines). Each hands its decoded batch to the alert planner (which projects
partner events, and tells a newly assigned lead its objective's state), whose deliveries
the dispatcher then sends.

Every funding event is wanted, not only a revocation: each is the cause (who acted, on
which line, why) that the objectives events it brings about are told with, found by their
shared correlation id (domain.causes)."""

from collections.abc import Sequence

from regia_shared.contracts import topics
from regia_shared.contracts.events.objectives import (
    FundingNarrowedToOneLevel,
    IndicatorFellBehind,
    MilestoneWentOverdue,
    ObjectiveCoverageChanged,
    ObjectiveDefined,
    ObjectiveStatusChanged,
)
from regia_shared.contracts.events.plans import AnnualReviewClosed
from regia_shared.messaging import consumer
from regia_shared.messaging.consumer import Received
from regia_shared.runtime import ServiceRuntime

from ..adapters import funding_causes
from ..adapters.metrics import NotifierMetrics
from ..domain.causes import FUNDING_EVENTS
from ..domain.planning import Planned
from ..service_layer.alert_planning import AlertPlanner, count_planned
from ..service_layer.projection import PARTNER_EVENTS

# How an objective-year's money stands (regia.objectives.coverage.v1): the changes the
# notifier's rules alert on. SingleLevelDependencyDetected travels with them, unread here.
COVERAGE_EVENTS = [
    ObjectiveStatusChanged.event_type(),
    ObjectiveCoverageChanged.event_type(),
    FundingNarrowedToOneLevel.event_type(),
]


def register(runtime: ServiceRuntime, metrics: NotifierMetrics, planner: AlertPlanner) -> None:
    polling = consumer.Polling.of(runtime.settings)

    def counted(_: Sequence[Received], plans: list[Planned]) -> None:
        count_planned(metrics, plans)

    # Causes first: what came in one batch is applied in this order, so a funding event
    # and the coverage events it brought about, fetched together, find the cause recorded.
    consumer.subscribe_group(
        runtime.broker,
        lambda: runtime.pool,
        group="notifier",
        subscriptions=[
            consumer.consumes(
                topics.PARTNERS,
                "notifier.partners",
                [e.event_type() for e in PARTNER_EVENTS],
                planner.apply_partner_events,
                on_committed=counted,
            ),
            consumer.consumes(
                topics.FUNDING,
                "notifier.funding",
                [e.event_type() for e in FUNDING_EVENTS],
                planner.apply_funding_events,
                on_committed=counted,
                # Every funding event becomes a cause row keyed by its id: that row is the
                # record of what this consumer applied, so it keeps no inbox row beside it.
                claim=funding_causes.claim,
            ),
            consumer.consumes(
                topics.OBJECTIVES,
                "notifier.objectives",
                [
                    ObjectiveDefined.event_type(),
                    AnnualReviewClosed.event_type(),
                    MilestoneWentOverdue.event_type(),
                    IndicatorFellBehind.event_type(),
                    # Published here before they had a topic of their own: what an upgraded
                    # deployment still holds on this topic is applied, not skipped.
                    *COVERAGE_EVENTS,
                ],
                planner.plan_events,
                on_committed=counted,
            ),
            consumer.consumes(
                topics.OBJECTIVES_COVERAGE,
                "notifier.coverage",
                COVERAGE_EVENTS,
                planner.plan_events,
                on_committed=counted,
            ),
        ],
        polling=polling,
    )
