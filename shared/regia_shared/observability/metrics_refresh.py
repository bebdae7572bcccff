"""Gauges read from state, refreshed in the background.

A service appends `async fn(conn)` to `runtime.gauges`; the runtime runs them all every
REGIA_METRICS_REFRESH_S on a pooled connection, and any number of probes that need no
connection (consumer lag asks the broker). Each one queries first and only then swaps its
gauge's children, in one synchronous step: label sets that vanished disappear, and a
failing query (the database restarting) leaves the last values in place.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import TypeVar

import asyncpg
from prometheus_client import Gauge

from regia_shared.observability.logs import get_logger

log = get_logger(__name__)

GaugeRefresh = Callable[[asyncpg.Connection], Awaitable[None]]
Probe = Callable[[], Awaitable[None]]
Labels = TypeVar("Labels", bound=tuple[str, ...])  # one gauge's label values, in its label order


def replace_children(gauge: Gauge, values: Mapping[Labels, float]) -> None:
    """Make `values` the gauge's only children. No await in here: a scrape never sees the
    gauge half filled."""
    gauge.clear()
    for labels, value in values.items():
        gauge.labels(*labels).set(value)


def euros(cents: int) -> float:
    return cents / 100


async def refresh_once(pool: asyncpg.Pool, gauges: Sequence[GaugeRefresh], probes: Sequence[Probe]) -> int:
    """Run every refresh once; returns how many failed. One failing never stops the others."""
    failed = 0
    for gauge in gauges:
        failed += await _failures(gauge, partial(_on_a_connection, pool, gauge))
    for probe in probes:
        failed += await _failures(probe, probe)
    return failed


async def _on_a_connection(pool: asyncpg.Pool, gauge: GaugeRefresh) -> None:
    async with pool.acquire() as conn:
        await gauge(conn)


async def _failures(refresh: GaugeRefresh | Probe, call: Probe) -> int:
    """1 if the call failed (logged under the refresh's name; its gauge keeps the last values), else 0."""
    try:
        await call()
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning(
            "metrics refresh failed, keeping the last values",
            refresh=getattr(refresh, "__qualname__", repr(refresh)),
            error=repr(exc),
        )
        return 1
    return 0


async def refresh_forever(
    pool: Callable[[], asyncpg.Pool], gauges: Sequence[GaugeRefresh], probes: Sequence[Probe], interval_s: float
) -> None:
    while True:
        await refresh_once(pool(), gauges, probes)
        await asyncio.sleep(interval_s)
