"""FastAPI dependencies every service's routes share: the service's connection pool and
its runtime, as typed parameters, so a route says `pool: DatabasePool` instead of reaching
into `request.app.state`.

Why a dependency rather than a module-level pool: the pool belongs to the runtime, which
the app's lifespan opens and closes; a dependency reads it per request, so tests that
build several apps in one process never share or leak a pool.
"""

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from regia_shared.runtime import ServiceRuntime


def service_runtime(request: Request) -> ServiceRuntime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, ServiceRuntime)
    return runtime


def database_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = service_runtime(request).pool
    return pool


Runtime = Annotated[ServiceRuntime, Depends(service_runtime)]
DatabasePool = Annotated[asyncpg.Pool, Depends(database_pool)]

__all__ = ["DatabasePool", "Runtime", "database_pool", "service_runtime"]
