"""The notifier's Prometheus metrics, created once per service registry."""

from datetime import UTC, datetime

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from regia_shared.observability.metrics_refresh import replace_children

from ..domain.delivery import Concluded
from ..domain.retry import DeliveryStatus

CHANNELS = ("email", "webhook")
# From a fast local chain (a tenth of a second) to an e-mail retried for most of an hour.
FUNDING_TO_ALERT_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)


def since_origin(origin_at: datetime | None, now: datetime) -> float | None:
    """Seconds from the chain's origin to now; never negative (clocks of two hosts differ)."""
    return None if origin_at is None else max(0.0, (now - origin_at).total_seconds())


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.delivered = Counter("regia_alerts_delivered_total", "Alerts delivered", ["channel"], registry=registry)
        self.failed = Counter(
            "regia_alerts_failed_total",
            "Alerts given up on after their last attempt (DEAD)",
            ["channel"],
            registry=registry,
        )
        self.attempts = Counter(
            "regia_alert_attempts_total", "Delivery attempts by outcome", ["channel", "outcome"], registry=registry
        )
        self.planned = Counter(
            "regia_alerts_planned_total",
            "Alerts planned: deliveries by channel, and alerts queued for a digest",
            ["channel"],
            registry=registry,
        )
        self.unaddressed = Counter(
            "regia_notifier_alerts_unaddressed_total",
            "Alerts nobody could be told about, by trigger (current_state: the state a new "
            "lead is told): no partner holds the audience, or its contacts and endpoints want "
            "none of it. Each is kept: GET /v1/alerts/unaddressed",
            ["trigger"],
            registry=registry,
        )
        self.dead = Gauge(
            "regia_alerts_dead", "Deliveries given up on (DEAD) and not retried", ["channel"], registry=registry
        )
        self.briefings_owed = Gauge(
            "regia_notifier_briefings_owed",
            "New leads owed their objective's state: assigned before any status of the objective "
            "reached the notifier, told when the first one does (adapters.owed_briefings)",
            registry=registry,
        )
        self.briefing_owed_seconds = Gauge(
            "regia_notifier_briefing_owed_seconds",
            "How long the longest-waiting owed briefing has waited since its lead's assignment "
            "(0: none owed); the first status normally follows the assignment within seconds",
            registry=registry,
        )
        self.funding_to_alert = Histogram(
            "regia_funding_to_alert_seconds",
            "From the acceptance of the event that started the chain (a funding event) to the "
            "alert it caused being delivered",
            ["channel"],
            registry=registry,
            buckets=FUNDING_TO_ALERT_BUCKETS,
        )

    def count(self, concluded: Concluded) -> None:
        channel = concluded.delivery.channel
        self.attempts.labels(channel, concluded.outcome.value.lower()).inc()
        if concluded.status is DeliveryStatus.DELIVERED:
            self.delivered.labels(channel).inc()
            took = since_origin(concluded.delivery.origin_at, datetime.now(UTC))
            if took is not None:  # a digest has no single origin
                self.funding_to_alert.labels(channel).observe(took)
        elif concluded.status is DeliveryStatus.DEAD:
            self.failed.labels(channel).inc()

    async def refresh_dead(self, conn: asyncpg.Connection) -> None:
        rows = await conn.fetch(
            "SELECT channel, count(*) AS n FROM deliveries WHERE status = $1 GROUP BY channel",
            DeliveryStatus.DEAD.value,
        )
        values = {(channel,): 0.0 for channel in CHANNELS}
        values.update({(r["channel"],): float(r["n"]) for r in rows})
        replace_children(self.dead, values)

    async def refresh_owed(self, conn: asyncpg.Connection) -> None:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(occurred_at)), 0) AS age"
            " FROM owed_briefings WHERE partner_id IS NOT NULL"
        )
        self.briefings_owed.set(row["n"])
        self.briefing_owed_seconds.set(max(0.0, float(row["age"])))
