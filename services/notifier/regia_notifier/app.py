"""The notifier's composition root."""

from fastapi import FastAPI

from regia_shared import topics
from regia_shared.runtime import ServiceRuntime

from .config import NotifierSettings
from .entrypoints import consumers
from .entrypoints.dispatcher import dispatcher_job
from .entrypoints.http import deliveries_router, webhooks_router
from .metrics import NotifierMetrics


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime(
        name="notifier",
        settings=settings or NotifierSettings(),
        migrations_package="regia_notifier",
        publishes=[topics.NOTIFICATIONS],
        consumes=[topics.PARTNERS, topics.OBJECTIVES],
    )
    metrics = NotifierMetrics(runtime.registry)
    consumers.register(runtime, metrics)
    runtime.background.append(dispatcher_job(metrics))
    app = runtime.http_app(title="Regia notifier")
    app.include_router(deliveries_router())
    app.include_router(webhooks_router())
    return app
