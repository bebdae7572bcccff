"""Topic names: one per publishing service, versioned in the name so a breaking change
gets a new topic instead of surprising old consumers."""

FUNDING = "regia.funding.v1"
FUNDING_INBOUND = "regia.funding.inbound.v1"
FUNDING_INBOUND_REJECTED = "regia.funding.inbound.rejected.v1"
OBJECTIVES = "regia.objectives.v1"
PARTNERS = "regia.partners.v1"
NOTIFICATIONS = "regia.notifications.v1"

ALL = (FUNDING, FUNDING_INBOUND, FUNDING_INBOUND_REJECTED, OBJECTIVES, PARTNERS, NOTIFICATIONS)

# The service that owns (alone publishes) each internal topic, and whose key signs every
# record on it (regia_shared.messaging.signing). The inbound topic has no owner among the
# services: institutions write it, each message with its own key, and it is not signed.
OWNER = {
    FUNDING: "funding",
    FUNDING_INBOUND_REJECTED: "funding",
    OBJECTIVES: "objectives",
    PARTNERS: "partners",
    NOTIFICATIONS: "notifier",
}


def dead_letter(consumer: str) -> str:
    """The dead-letter topic of one consumer (e.g. 'objectives.funding')."""
    return f"regia.dlq.{consumer}.v1"


def is_dead_letter(topic: str) -> bool:
    return topic.startswith("regia.dlq.")
