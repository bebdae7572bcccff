"""The notifier's composition root."""

from fastapi import FastAPI

from regia_shared.contracts import topics
from regia_shared.observability.logs import get_logger
from regia_shared.runtime import ServiceRuntime

from .adapters.metrics import NotifierMetrics
from .config import NotifierSettings
from .entrypoints import consumers
from .entrypoints.deliveries_http import deliveries_router
from .entrypoints.digests_http import digests_router
from .entrypoints.dispatcher import dispatcher_job
from .entrypoints.message_job import message_job
from .entrypoints.payload_schema_http import payload_schema_router
from .entrypoints.rules_http import rules_router
from .entrypoints.unaddressed_http import unaddressed_router
from .entrypoints.webhooks_http import webhooks_router
from .service_layer.alert_planning import AlertPlanner
from .service_layer.secret_rewrapping import rewrap_secrets

log = get_logger(__name__)


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    runtime = ServiceRuntime(
        name="notifier",
        settings=settings,
        migrations_package="regia_notifier",
        publishes=[topics.NOTIFICATIONS],
        consumes=[topics.PARTNERS, topics.OBJECTIVES, topics.OBJECTIVES_COVERAGE, topics.FUNDING],
        # Before the dispatcher or the API use a secret, and before anything is served.
        startup=[rewrap_secrets],
    )
    metrics = NotifierMetrics(runtime.registry)
    runtime.gauges.extend([metrics.refresh_dead, metrics.refresh_owed])
    planner = AlertPlanner(
        settings.digest_at,
        settings.zone,
        weekly_digest_day=settings.weekday,
        window_first_year=settings.window_first_year,
        today=settings.fiscal_today,
        console_url=settings.console_url,
    )
    if settings.preference_link_key is None:
        log.warning("REGIA_PREFERENCE_LINK_KEY is not set: e-mails go without their unsubscribe and preferences links")
    consumers.register(runtime, metrics, planner)
    runtime.background += [dispatcher_job(metrics), message_job(settings.preference_links())]
    app = runtime.http_app(title="Regia notifier")
    routers = (
        deliveries_router(),
        payload_schema_router(),
        webhooks_router(),
        rules_router(),
        digests_router(),
        unaddressed_router(),
    )
    for router in routers:
        app.include_router(router)
    return app
