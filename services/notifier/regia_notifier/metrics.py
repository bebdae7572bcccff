"""The notifier's Prometheus metrics, created once per service registry."""

from prometheus_client import CollectorRegistry, Counter

from .domain.retry import DeliveryStatus
from .dispatching import Concluded


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.delivered = Counter("regia_alerts_delivered_total", "Alerts delivered",
                                 ["channel"], registry=registry)
        self.failed = Counter("regia_alerts_failed_total",
                              "Alerts given up on after their last attempt (DEAD)",
                              ["channel"], registry=registry)
        self.attempts = Counter("regia_alert_attempts_total", "Delivery attempts by outcome",
                                ["channel", "outcome"], registry=registry)
        self.planned = Counter("regia_alerts_planned_total",
                               "Alerts planned: deliveries by channel, and alerts queued for a digest",
                               ["channel"], registry=registry)
        self.unaddressed = Counter(
            "regia_alerts_unaddressed_total",
            "Occurrences a rule matched that nobody could be told about: no partner holds the "
            "audience, or its contacts and endpoints want none of it",
            registry=registry)

    def count(self, concluded: Concluded) -> None:
        channel = concluded.delivery.channel
        self.attempts.labels(channel, concluded.outcome.value.lower()).inc()
        if concluded.status is DeliveryStatus.DELIVERED:
            self.delivered.labels(channel).inc()
        elif concluded.status is DeliveryStatus.DEAD:
            self.failed.labels(channel).inc()
