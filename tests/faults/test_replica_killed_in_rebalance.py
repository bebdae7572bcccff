"""Two replicas of the objectives service in one consumer group; while a stream of funding
events flows, the second replica joins and the first is SIGKILLed while the group
rebalances. The survivor takes every partition over and the coverage ends exactly as the
stream adds up to: what the dead replica had claimed and not acknowledged is redelivered
and applied once."""

import asyncio
import time
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from regia_shared.contracts import topics

from ..support import faults
from ..support.faults import LONG, of, paced
from ..support.figures import record
from ..support.infra import Database
from ..support.services import service_process
from ..support.system import running_system
from . import scenarios as sc

pytestmark = pytest.mark.e2e
GROUP = "objectives"  # the service's consumer group
CONSUMER = "objectives.funding"  # what it took in: faults.BY_EFFECT
# Tansu reports a group between Stable states as Unknown while the members rejoin.
REBALANCING = {"PreparingRebalance", "CompletingRebalance"}


async def test_replica_killed_while_the_group_rebalances(
    service_env,
    database: Database,
    broker,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    stream = sc.coverage_stream(1800 if LONG else 600)
    applied = faults.inbox_count(database, "objectives", CONSUMER)
    second, _ = service_process("objectives", service_env, tmp_path / "replica-2")
    with running_system(service_env, tmp_path) as system:
        first = system.start("objectives")
        await sc.define_objectives(first.url, stream.objectives)
        # The last fifth is held back until the first replica is dead: however slowly the
        # second one starts on a loaded machine, the kill lands mid-stream and the survivor
        # has to take over both what was claimed and what is still to come.
        cut = len(stream.events) * 4 // 5
        feed = asyncio.create_task(
            paced(broker.bootstrap_servers, of(topics.FUNDING, stream.events[:cut]), chunk=5, interval_s=0.04)
        )
        await faults.settle_at_least(applied, len(stream.events) // 10, what="the first replica applying")

        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
        await admin.start()
        try:
            joining = asyncio.create_task(asyncio.to_thread(second.start, 90))
            seen = await _until_rebalancing(admin, joining)
            system.kill("objectives")  # the first replica, mid-rebalance (or as the second came up)
            killed_at = await applied()
            await joining
        finally:
            await admin.close()
        print(f"first replica killed at {killed_at}/{len(stream.events)}; group state seen: {seen}")
        assert killed_at < len(stream.events), "the kill must land mid-stream"
        try:
            await feed
            await paced(broker.bootstrap_servers, of(topics.FUNDING, stream.events[cut:]), chunk=5, interval_s=0.04)
            await faults.settle(applied, len(stream.events), what="the survivor applying every event")
            await sc.assert_coverage(f"http://127.0.0.1:{_port(second)}", stream)
        finally:
            second.stop()
    record(
        "replica killed during a rebalance",
        faults=1,
        inputs=len(stream.events),
        euros_lost=0,
        alerts_duplicated=0,
        seconds=round(time.monotonic() - began, 1),
    )


async def _until_rebalancing(admin: AIOKafkaAdminClient, joining: asyncio.Task) -> str:
    """Wait for the group to be seen rebalancing; if the broker does not show it before the
    second replica is ready, return at once: its join is then what the group is doing."""
    last, stable_seen = "?", False
    while not joining.done():
        try:
            described = await admin.describe_consumer_groups([GROUP])
            last = _state(described) or last
        except Exception as exc:  # a broker that cannot describe groups: fall back on readiness
            last = f"not described ({type(exc).__name__})"
        stable_seen = stable_seen or last == "Stable"
        if last in REBALANCING or (stable_seen and last == "Unknown"):
            return last
        await asyncio.sleep(0.02)
    return f"{last} (second replica ready)"


def _state(described) -> str | None:  # type: ignore[no-untyped-def]
    for response in described:
        for group in getattr(response, "groups", []):
            # (error_code, group_id, state, protocol_type, protocol, members[, authorized_ops])
            if group[1] == GROUP:
                return group[2]
    return None


def _port(process) -> int:  # type: ignore[no-untyped-def]
    return int(process.env["REGIA_OBJECTIVES_PORT"])
