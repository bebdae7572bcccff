"""The funding service's composition root."""

from fastapi import FastAPI

from regia_shared import topics
from regia_shared.runtime import ServiceRuntime

from .config import FundingSettings
from .entrypoints import consumers
from .entrypoints.http import funding_router, keys_router


def create_app(settings: FundingSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime(
        name="funding",
        settings=settings or FundingSettings(),
        migrations_package="regia_funding",
        publishes=[topics.FUNDING],
        consumes=[topics.PARTNERS],
    )
    consumers.register(runtime)
    app = runtime.http_app(title="Regia funding")
    app.include_router(funding_router(runtime.registry))
    app.include_router(keys_router())
    return app
