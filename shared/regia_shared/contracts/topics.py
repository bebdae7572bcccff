"""Topic names: one per publishing service, versioned in the name so a breaking change
gets a new topic instead of surprising old consumers."""

FUNDING = "regia.funding.v1"
FUNDING_INBOUND = "regia.funding.inbound.v1"
FUNDING_INBOUND_REJECTED = "regia.funding.inbound.rejected.v1"
OBJECTIVES = "regia.objectives.v1"
# How each objective-year's money stands: the coverage projection's events (coverage,
# status, money narrowed to one level, dependence on one level), keyed by objective like the rest of the objectives
# service's. They are nearly all of that service's traffic and only the notifier reads them,
# so they travel apart: on one topic, the three consumers that read objectives' definitions
# and plans fetched every coverage event only to skip it (each fetch, skip and offset commit
# costing the broker and the reader at every hop; docs/performance.md, issue 21's fourth
# session). The four payloads (events.routing) stay on one topic together, so they keep
# their order per objective for the one reader that needs them.
OBJECTIVES_COVERAGE = "regia.objectives.coverage.v1"
PARTNERS = "regia.partners.v1"
NOTIFICATIONS = "regia.notifications.v1"

ALL = (FUNDING, FUNDING_INBOUND, FUNDING_INBOUND_REJECTED, OBJECTIVES, OBJECTIVES_COVERAGE, PARTNERS, NOTIFICATIONS)

# The service that owns (alone publishes) each internal topic, and whose key signs every
# record on it (regia_shared.messaging.signing). The inbound topic has no owner among the
# services: institutions write it, each message with its own key, and it is not signed.
OWNER = {
    FUNDING: "funding",
    FUNDING_INBOUND_REJECTED: "funding",
    OBJECTIVES: "objectives",
    OBJECTIVES_COVERAGE: "objectives",
    PARTNERS: "partners",
    NOTIFICATIONS: "notifier",
}


def dead_letter(consumer: str) -> str:
    """The dead-letter topic of one consumer (e.g. 'objectives.funding')."""
    return f"regia.dlq.{consumer}.v1"


def is_dead_letter(topic: str) -> bool:
    return topic.startswith("regia.dlq.")
