"""The objectives service's composition root."""

from collections.abc import Callable
from datetime import date

from fastapi import FastAPI

from regia_shared.contracts import topics
from regia_shared.runtime import ServiceRuntime

from .adapters.metrics import ObjectivesMetrics
from .config import ObjectivesSettings
from .entrypoints import consumers
from .entrypoints.indicators_http import indicators_router
from .entrypoints.milestone_job import milestone_job
from .entrypoints.nodes_http import nodes_router
from .entrypoints.objectives_http import objectives_router
from .entrypoints.open_data_http import open_data_router
from .entrypoints.plans_http import plans_router
from .entrypoints.rebuild_http import rebuild_router
from .entrypoints.reviews_http import reviews_router
from .entrypoints.summary_fold_job import summary_fold_job
from .entrypoints.summary_http import summary_router


def create_app(settings: ObjectivesSettings | None = None, *, today: Callable[[], date] | None = None) -> FastAPI:
    """`today`: the service's clock for milestones and measurements (what is overdue, what
    is in the future); by default the date in Rome, or REGIA_TODAY when pinned."""
    settings = settings or ObjectivesSettings()
    clock = today or settings.fiscal_today
    runtime = ServiceRuntime(
        name="objectives",
        settings=settings,
        migrations_package="regia_objectives",
        publishes=[topics.OBJECTIVES, topics.OBJECTIVES_COVERAGE],
        consumes=[topics.FUNDING, topics.PARTNERS],
    )
    runtime.gauges.append(ObjectivesMetrics(runtime.registry).refresh)
    consumers.register(runtime)
    runtime.background.append(milestone_job(clock, settings.milestone_sweep_s))
    runtime.background.append(summary_fold_job(settings.summary_fold_s))
    app = runtime.http_app(title="Regia objectives")
    app.state.today = clock  # what the routes take as today (indicators_http.Today)
    app.include_router(objectives_router())
    app.include_router(plans_router())
    app.include_router(nodes_router())
    app.include_router(reviews_router())
    app.include_router(indicators_router())
    app.include_router(rebuild_router())
    app.include_router(summary_router())
    app.include_router(open_data_router())
    return app
