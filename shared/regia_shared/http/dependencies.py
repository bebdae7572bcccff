"""FastAPI dependencies every service's routes share: the service's connection pool and
its runtime, as typed parameters, so a route says `pool: DatabasePool` instead of reaching
into `request.app.state`.

Why a dependency rather than a module-level pool: the pool belongs to the runtime, which
the app's lifespan opens and closes; a dependency reads it per request, so tests that
build several apps in one process never share or leak a pool.

Why every dependency here, and every one a route declares, is `async def` though none of
them awaits: FastAPI runs a plain `def` dependency in a worker thread, so each costs a
thread hand-off and two wake-ups of the event loop per request. In funding's single-event
route that was 9 % of the event loop's time for reading an attribute
(tests/unit/test_dependencies_on_the_loop.py keeps every service's routes to it).
"""

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from regia_shared.runtime import ServiceRuntime


def runtime_of(request: Request) -> ServiceRuntime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, ServiceRuntime)
    return runtime


async def service_runtime(request: Request) -> ServiceRuntime:
    return runtime_of(request)


async def database_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = runtime_of(request).pool
    return pool


Runtime = Annotated[ServiceRuntime, Depends(service_runtime)]
DatabasePool = Annotated[asyncpg.Pool, Depends(database_pool)]

__all__ = ["DatabasePool", "Runtime", "database_pool", "runtime_of", "service_runtime"]
