"""PostgreSQL stops (fast shutdown) in the middle of a steady stream of funding events and
comes back seconds later on the same port and data directory. The clients do what a real
client does: a 5xx or a broken connection is retried with the same Idempotency-Key. The
services are not restarted: their pools reconnect, readiness says 503 while the database is
away and 200 once it is back, and the ledger and the coverage are exact, with no event
lost or counted twice."""

import asyncio
import os
import time
from pathlib import Path

import httpx
import pytest

from regia.local.embedded.broker import EmbeddedBroker
from regia_shared.contracts import topics
from regia_shared.contracts.levels import GovernmentLevel

from ..e2e.test_consumer_killed_mid_stream import funding_stream
from ..support import kafka
from ..support.faults import OBJECTIVES_FUNDING_TAKEN_IN
from ..support.figures import record
from ..support.infra import fresh_database, start_postgres
from ..support.objective_lines import projected_lines
from ..support.partners import institution_registered
from ..support.services import ADMIN_HEADERS, REASON_HEADERS, base_env
from ..support.system import running_system
from ..support.wait import eventually

pytestmark = pytest.mark.e2e
LONG = os.environ.get("REGIA_VERIFY_LONG") == "1"
EVENTS = 1000 if LONG else 400
DOWN_S = 8.0 if LONG else 4.0


async def test_postgres_restarted_under_load_loses_and_doubles_nothing(broker: EmbeddedBroker, tmp_path: Path):  # type: ignore[no-untyped-def]
    server = start_postgres(tmp_path)  # our own server: the session's one stays up for the others
    try:
        database = await fresh_database(server)
        events, final = funding_stream(seed=7)
        events = events[:EVENTS]
        final = {}
        for event in events:
            final[event["line_id"]] = event["committed_cents"]
        objectives_of = {e["line_id"]: e["objective_id"] for e in events if e["type"] == "commitment"}
        await kafka.publish(
            broker.bootstrap_servers,
            topics.PARTNERS,
            [institution_registered("regione-liguria", "Regione Liguria", GovernmentLevel.REGIONE)],
        )
        env = {**base_env(database.dsn, broker.bootstrap_servers), "REGIA_METRICS_REFRESH_S": "1"}
        with running_system(env, tmp_path / "logs") as system:
            funding, objectives = system.start("funding"), system.start("objectives")
            key = await set_up(funding.url, objectives.url, sorted(set(objectives_of.values())))

            retried = Retries()
            stream = asyncio.create_task(push(funding.url, key, events, retried))
            await eventually(
                lambda: _applied_at_least(database, 50), timeout=60, interval=0.05, what="the stream under way"
            )
            assert not stream.done(), "PostgreSQL must stop in the middle of the stream"
            await asyncio.to_thread(server.stop)  # SIGINT: fast shutdown, open transactions rolled back
            stopped_at = time.monotonic()
            for service in (funding, objectives):
                await eventually(
                    lambda s=service: _ready_is(s.url, 503),
                    timeout=10,
                    what=f"{service.name} not ready while the database is down",
                )
            await asyncio.sleep(max(0.0, DOWN_S - (time.monotonic() - stopped_at)))
            await asyncio.to_thread(server.start)  # same port, same data directory
            for service in (funding, objectives):
                await eventually(
                    lambda s=service: _ready_is(s.url, 200),
                    timeout=30,
                    what=f"{service.name} ready again without a restart",
                )
            await asyncio.wait_for(stream, timeout=180)
            assert retried.requests > 0, "some requests must have met the database down"
            print(f"PostgreSQL down {DOWN_S:.0f}s in a stream of {EVENTS}; {retried.requests} requests retried")

            async def all_applied() -> bool:
                n = await database.fetchval("objectives", OBJECTIVES_FUNDING_TAKEN_IN)
                return n == EVENTS

            await eventually(all_applied, timeout=90, what=f"all {EVENTS} events applied")

            async with httpx.AsyncClient(timeout=10) as client:
                for objective in sorted(set(objectives_of.values())):
                    mine = {ln: v for ln, v in final.items() if objectives_of[ln] == objective}
                    body = (await client.get(f"{objectives.url}/v1/objectives/{objective}")).json()
                    assert body["years"][0]["committed_cents"] == sum(mine.values()), (objective, body["years"])
                    assert await projected_lines(client, objectives.url, objective) == mine
            for service in (funding, objectives):
                assert system.processes[service.name].alive(), f"{service.name} must not have been restarted"

        rows = await database.fetch(
            "funding", "SELECT line_id, sum(delta_cents) AS total, count(*) AS n FROM ledger_entries GROUP BY line_id"
        )
        assert {r["line_id"]: r["total"] for r in rows} == final
        assert sum(r["n"] for r in rows) == EVENTS, "one ledger entry per accepted event, none doubled"
        assert await database.fetchval("funding", "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
        record(
            "postgres restarted under load",
            faults=1,
            inputs=EVENTS,
            requests=EVENTS + retried.requests,
            euros_lost=0,
            alerts_duplicated=0,
            errors=retried.requests,
        )
    finally:
        server.stop()


class Retries:
    requests = 0


async def push(
    url: str, key: str, events: list[dict], retried: Retries, prefix: str = "e", pace_s: float = 0.01
) -> None:
    """One worker per line (its events stay in order); each event retried with its own
    Idempotency-Key until accepted, as a real client does after a 5xx or a broken connection."""
    by_line: dict[str, list[tuple[int, dict]]] = {}
    for i, event in enumerate(events):
        by_line.setdefault(event["line_id"], []).append((i, event))
    async with httpx.AsyncClient(
        base_url=url, timeout=10, headers={"Authorization": f"Bearer {key}", **REASON_HEADERS}
    ) as client:

        async def send(line_events: list[tuple[int, dict]]) -> None:
            for i, event in line_events:
                for _ in range(200):
                    try:
                        r = await client.post(
                            "/v1/funding-events", json=event, headers={"Idempotency-Key": f"{prefix}{i}"}
                        )
                    except httpx.TransportError:
                        r = None
                    if r is not None and r.status_code < 500:
                        assert r.status_code == 202, r.text
                        break
                    retried.requests += 1
                    await asyncio.sleep(0.25)
                else:
                    raise AssertionError(f"event {i} never accepted")
                await asyncio.sleep(pace_s)  # a steady stream, not a burst

        await asyncio.gather(*(send(v) for v in by_line.values()))


async def set_up(funding_url: str, objectives_url: str, objective_ids: list[str]) -> str:
    async with httpx.AsyncClient(headers=ADMIN_HEADERS, timeout=10) as admin:
        for objective in objective_ids:
            r = await admin.post(
                f"{objectives_url}/v1/objectives",
                json={
                    "objective_id": objective,
                    "title": objective,
                    "needs": [{"fiscal_year": 2027, "need_cents": 100_000_000}],
                },
            )
            assert r.status_code == 201, r.text

        async def references_known() -> bool:
            known = [(await admin.get(f"{funding_url}/v1/objectives/{o}")).status_code == 200 for o in objective_ids]
            return all(known) and bool((await admin.get(f"{funding_url}/v1/institutions")).json())

        await eventually(references_known, what="funding learned the institution and objectives")
        r = await admin.post(
            f"{funding_url}/v1/instruments",
            json={
                "instrument_id": "por-fesr-liguria",
                "institution_id": "regione-liguria",
                "name": "POR FESR Liguria",
                "kind": "programme",
            },
        )
        assert r.status_code == 201, r.text
        return (await admin.post(f"{funding_url}/v1/institutions/regione-liguria/keys")).json()["key"]


async def _ready_is(url: str, status: int) -> bool:
    try:
        async with httpx.AsyncClient(timeout=3) as client:
            return (await client.get(f"{url}/health/ready")).status_code == status
    except httpx.HTTPError:
        return False


async def _applied_at_least(database, n: int) -> bool:  # type: ignore[no-untyped-def]
    try:
        return await database.fetchval("objectives", OBJECTIVES_FUNDING_TAKEN_IN) >= n
    except Exception:  # the table appears with the service's migrations
        return False
