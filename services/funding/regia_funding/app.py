"""The funding service's composition root."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI

from regia_shared.contracts import topics
from regia_shared.runtime import ServiceRuntime

from .adapters import known_keys, references
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


def listen_for_key_changes(known: known_keys.KnownKeys) -> Callable[[ServiceRuntime], Coroutine[Any, Any, None]]:
    async def key_changes(runtime: ServiceRuntime) -> None:
        await known_keys.listen(known, runtime.settings.database_url.get_secret_value(), runtime.name)

    return key_changes


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
    # The keys requests carry, verified once and kept while nothing changes them.
    known = known_keys.KnownKeys(registry=runtime.registry)
    runtime.background.append(listen_for_key_changes(known))
    consumers.register(runtime)
    inbound.register(runtime)
    app = runtime.http_app(title="Regia funding", union_tags=frozenset(COMMAND_TYPES))
    app.state.message_docs = {topics.FUNDING_INBOUND: inbound.message_doc()}
    app.state.known_keys = known
    app.include_router(events_router(runtime.registry, GroupCommit(lambda: runtime.pool)))
    app.include_router(queries_router())
    app.include_router(rejections_router())
    app.include_router(admin_router())
    app.include_router(import_runs_router())
    app.include_router(ledger_export_router())
    app.include_router(open_data_router())
    return app
