"""The objectives service's composition root."""

from fastapi import FastAPI

from regia_shared.contracts import topics
from regia_shared.runtime import ServiceRuntime

from .adapters.metrics import ObjectivesMetrics
from .config import ObjectivesSettings
from .entrypoints import consumers
from .entrypoints.indicators_http import indicators_router
from .entrypoints.nodes_http import nodes_router
from .entrypoints.objectives_http import objectives_router
from .entrypoints.plans_http import plans_router
from .entrypoints.rebuild_http import rebuild_router
from .entrypoints.reviews_http import reviews_router


def create_app(settings: ObjectivesSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime(
        name="objectives",
        settings=settings or ObjectivesSettings(),
        migrations_package="regia_objectives",
        publishes=[topics.OBJECTIVES],
        consumes=[topics.FUNDING, topics.PARTNERS],
    )
    runtime.gauges.append(ObjectivesMetrics(runtime.registry).refresh)
    consumers.register(runtime)
    app = runtime.http_app(title="Regia objectives")
    app.include_router(objectives_router())
    app.include_router(plans_router())
    app.include_router(nodes_router())
    app.include_router(reviews_router())
    app.include_router(indicators_router())
    app.include_router(rebuild_router())
    return app
