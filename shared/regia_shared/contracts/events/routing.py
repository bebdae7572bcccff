"""The events that do not travel on their module's topic.

Each events module is the contract of one topic, but for the coverage projection's events:
the objectives service publishes them on `regia.objectives.coverage.v1`, apart from its
definitions, plans and reviews (topics.OBJECTIVES_COVERAGE says why). They are named here,
once: for the AsyncAPI documents (http.apidocs_topics), the tests that stand in for the
objectives service (tests/support/kafka.publish_objectives), and the unit test that the
notifier reads what it alerts on from this topic (tests/unit/test_api_docs.py).
"""

from regia_shared.contracts.events.envelope import EventPayload
from regia_shared.contracts.events.objectives import (
    FundingNarrowedToOneLevel,
    ObjectiveCoverageChanged,
    ObjectiveStatusChanged,
)
from regia_shared.contracts.events.plans import SingleLevelDependencyDetected

# What the coverage projection publishes: how each objective-year's money stands.
ON_COVERAGE_TOPIC: tuple[type[EventPayload], ...] = (
    ObjectiveCoverageChanged,
    ObjectiveStatusChanged,
    FundingNarrowedToOneLevel,
    SingleLevelDependencyDetected,
)
