"""A consumer killed with SIGKILL in the middle of a stream of 1,000 funding events, and
started again, ends with exactly the coverage that the 1,000 events add up to: nothing
lost, nothing counted twice."""

import asyncio
import random
from pathlib import Path

import httpx
import pytest

from regia_shared.contracts import topics
from regia_shared.contracts.levels import GovernmentLevel

from ..support import kafka
from ..support.faults import OBJECTIVES_FUNDING_TAKEN_IN
from ..support.infra import Database
from ..support.objective_lines import projected_lines
from ..support.partners import institution_registered
from ..support.services import ADMIN_HEADERS, REASON_HEADERS
from ..support.system import running_system
from ..support.wait import eventually

pytestmark = pytest.mark.e2e
OBJECTIVES, LINES_PER_OBJECTIVE, EVENTS = 10, 5, 1000


def funding_stream(seed: int = 2027) -> tuple[list[dict], dict[str, int]]:
    """1,000 events: a commitment per line, then revisions; and each line's final amount."""
    rng = random.Random(seed)
    lines = [(f"obj-{o}", f"LIG-{o}-{n}") for o in range(OBJECTIVES) for n in range(LINES_PER_OBJECTIVE)]
    final: dict[str, int] = {}
    events: list[dict] = []
    for objective, line in lines:
        final[line] = rng.randrange(1, 50_000) * 100
        events.append(
            {
                "type": "commitment",
                "line_id": line,
                "objective_id": objective,
                "instrument_id": "por-fesr-liguria",
                "fiscal_year": 2027,
                "committed_cents": final[line],
            }
        )
    while len(events) < EVENTS:
        _, line = rng.choice(lines)
        final[line] = rng.randrange(0, 50_000) * 100
        events.append({"type": "revision", "line_id": line, "committed_cents": final[line]})
    return events, final


async def push(url: str, key: str, events: list[dict]) -> None:
    """Send events with one worker per line so each line's events stay in order."""
    by_line: dict[str, list[tuple[int, dict]]] = {}
    for i, event in enumerate(events):
        by_line.setdefault(event["line_id"], []).append((i, event))
    async with httpx.AsyncClient(
        base_url=url, timeout=30, headers={"Authorization": f"Bearer {key}", **REASON_HEADERS}
    ) as client:

        async def send(line_events: list[tuple[int, dict]]) -> None:
            for i, event in line_events:
                r = await client.post("/v1/funding-events", json=event, headers={"Idempotency-Key": f"e{i}"})
                assert r.status_code == 202, r.text

        await asyncio.gather(*(send(v) for v in by_line.values()))


async def test_sigkill_mid_stream_loses_and_double_counts_nothing(
    service_env, database: Database, broker, tmp_path: Path
):  # type: ignore[no-untyped-def]
    events, final = funding_stream()
    await kafka.publish(
        broker.bootstrap_servers,
        topics.PARTNERS,
        [institution_registered("regione-liguria", "Regione Liguria", GovernmentLevel.REGIONE)],
    )
    with running_system(service_env, tmp_path) as system:
        funding = system.start("funding")
        objectives = system.start("objectives")
        async with httpx.AsyncClient(headers=ADMIN_HEADERS, timeout=10) as admin:
            for o in range(OBJECTIVES):
                r = await admin.post(
                    f"{objectives.url}/v1/objectives",
                    json={
                        "objective_id": f"obj-{o}",
                        "title": f"Objective {o}",
                        "needs": [{"fiscal_year": 2027, "need_cents": 100_000_000}],
                    },
                )
                assert r.status_code == 201, r.text

            async def references_known() -> bool:
                last = await admin.get(f"{funding.url}/v1/objectives/obj-{OBJECTIVES - 1}")
                return bool((await admin.get(f"{funding.url}/v1/institutions")).json()) and last.status_code == 200

            await eventually(references_known, what="funding learned the institution and objectives")
            r = await admin.post(
                f"{funding.url}/v1/instruments",
                json={
                    "instrument_id": "por-fesr-liguria",
                    "institution_id": "regione-liguria",
                    "name": "POR FESR Liguria",
                    "kind": "programme",
                },
            )
            assert r.status_code == 201, r.text
            key = (await admin.post(f"{funding.url}/v1/institutions/regione-liguria/keys")).json()["key"]

        async def applied() -> int:
            return await database.fetchval("objectives", OBJECTIVES_FUNDING_TAKEN_IN)  # type: ignore[return-value]

        stream = asyncio.create_task(push(funding.url, key, events))
        killed_at = await eventually(
            lambda: _at_least(applied, 100), timeout=60, interval=0.02, what="the consumer applying its first events"
        )
        print(f"objectives killed after applying {killed_at} of {EVENTS} events")
        system.kill("objectives")  # SIGKILL: no shutdown hook, no offset commit, no rollback
        assert killed_at < EVENTS, "the consumer must be killed in the middle of the stream"
        await stream
        system.start("objectives")

        async def all_applied() -> bool:
            return await applied() == EVENTS

        await eventually(all_applied, timeout=120, what="all 1,000 events applied after the restart")

        async with httpx.AsyncClient(timeout=10) as client:
            for o in range(OBJECTIVES):
                expected = sum(v for line, v in final.items() if line.startswith(f"LIG-{o}-"))
                body = (await client.get(f"{objectives.url}/v1/objectives/obj-{o}")).json()
                year = body["years"][0]
                assert year["committed_cents"] == expected, (o, year, expected)
                assert await projected_lines(client, objectives.url, f"obj-{o}") == {
                    line: v for line, v in final.items() if line.startswith(f"LIG-{o}-")
                }

    # The ledger agrees: the deltas of every line add up to its final amount.
    rows = await database.fetch(
        "funding", "SELECT line_id, sum(delta_cents) AS total, count(*) AS n FROM ledger_entries GROUP BY line_id"
    )
    assert {r["line_id"]: r["total"] for r in rows} == final
    assert sum(r["n"] for r in rows) == EVENTS


async def _at_least(probe, n: int) -> int | None:  # type: ignore[no-untyped-def]
    value = await probe()
    return value if value >= n else None
