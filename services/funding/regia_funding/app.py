"""The funding service's composition root."""

from fastapi import FastAPI

from regia_shared.contracts import topics
from regia_shared.http import fast_path
from regia_shared.runtime import ServiceRuntime

from .adapters import references
from .adapters.metrics import FundingMetrics
from .config import FundingSettings
from .domain.commands import COMMAND_TYPES
from .entrypoints import consumers, inbound
from .entrypoints.admin_http import admin_router
from .entrypoints.events_http import events_router
from .entrypoints.imports_http import import_runs_router
from .entrypoints.ledger_export_http import ledger_export_router
from .entrypoints.open_data_http import open_data_router
from .entrypoints.queries_http import queries_router
from .entrypoints.rejections_http import rejections_router
from .service_layer.group_commit import GroupCommit


async def open_budget_window(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    assert isinstance(settings, FundingSettings)
    async with runtime.pool.acquire() as conn:
        await references.init_window(
            conn, settings.window_first_year, settings.window_first_year + settings.window_years - 1
        )


def create_app(settings: FundingSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime(
        name="funding",
        settings=settings or FundingSettings(),
        migrations_package="regia_funding",
        publishes=[topics.FUNDING, topics.FUNDING_INBOUND_REJECTED],
        consumes=[topics.PARTNERS, topics.OBJECTIVES, topics.FUNDING_INBOUND],
        startup=[open_budget_window],
    )
    runtime.gauges.append(FundingMetrics(runtime.registry).refresh)
    consumers.register(runtime)
    inbound.register(runtime)
    app = runtime.http_app(title="Regia funding", union_tags=frozenset(COMMAND_TYPES))
    app.state.message_docs = {topics.FUNDING_INBOUND: inbound.message_doc()}
    events = events_router(runtime.registry, GroupCommit(lambda: runtime.pool))
    app.include_router(events.router)
    fast_path.install(app, events.fast_single)
    app.include_router(queries_router())
    app.include_router(rejections_router())
    app.include_router(admin_router())
    app.include_router(import_runs_router())
    app.include_router(ledger_export_router())
    app.include_router(open_data_router())
    return app
