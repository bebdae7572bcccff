"""The outbox relay dies between publishing a batch and marking it published (the failpoint
`outbox.after_publish` ends the funding process there, as a SIGKILL would). Started
again, it publishes those rows a second time: the funding topic carries the same event
ids twice, and still the coverage and the ledger are exactly what the commands add up to,
because every consumer applies an event id once."""

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.levels import GovernmentLevel

from ..support import faults, kafka
from ..support.faults import LONG, paced
from ..support.figures import record
from ..support.infra import Database
from ..support.partners import institution_registered
from ..support.system import running_system
from ..support.wait import eventually
from . import scenarios as sc

pytestmark = pytest.mark.e2e
FAILPOINT = "outbox.after_publish"


async def test_relay_killed_between_publish_and_mark_duplicates_events_but_no_money(  # type: ignore[no-untyped-def]
    service_env, database: Database, broker, tmp_path: Path
) -> None:
    began = time.monotonic()
    stream = sc.coverage_stream(900 if LONG else 300, objectives=4, lines_per=5)
    await kafka.publish(
        broker.bootstrap_servers,
        topics.PARTNERS,
        [institution_registered("regione-liguria", "Regione Liguria", GovernmentLevel.REGIONE)],
    )
    with running_system(service_env, tmp_path) as system:
        funding = system.start("funding")
        objectives = system.start("objectives")
        key = await sc.prepare_funding(funding.url, objectives.url, stream.objectives)
        system.processes["funding"].stop()
        system.start("funding", {"REGIA_FAILPOINTS": FAILPOINT})  # armed: its outbox is empty so far

        commands = sc.inbound_commands(stream, key, "por-fesr-liguria")
        feed = asyncio.create_task(paced(broker.bootstrap_servers, commands))
        process = system.processes["funding"]

        async def died() -> int | None:
            return process.proc.poll()

        assert await eventually(died, timeout=60, interval=0.05, what="funding dying at the failpoint") == 137
        published_unmarked = await database.fetchval(
            "funding", "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        )
        on_topic = await faults.topic_size(broker.bootstrap_servers, topics.FUNDING)
        assert on_topic > 0, "the relay died before it published anything"
        await feed
        system.start("funding")  # the failpoint disarmed

        await faults.settle(
            _count(database, "funding", "SELECT count(*) FROM idempotency_keys"),
            len(commands),
            what="every command accepted",
        )
        unpublished = _count(database, "funding", "SELECT count(*) FROM outbox WHERE published_at IS NULL")

        async def drained() -> bool:
            return await unpublished() == 0

        await eventually(drained, timeout=60, what="the outbox drained")
        await faults.settle(
            faults.inbox_count(database, "objectives", "objectives.funding"),
            len(commands),
            what="objectives applied every funding event once",
        )
        await sc.assert_coverage(objectives.url, stream)

    total = await faults.topic_size(broker.bootstrap_servers, topics.FUNDING)
    records = await kafka.read_records(broker.bootstrap_servers, topics.FUNDING, expect=total)
    ids = Counter(str(Envelope.model_validate_json(r.value).event_id) for r in records)
    duplicated = {i: n for i, n in ids.items() if n > 1}
    assert len(ids) == len(commands), "one event per command, whatever was published twice"
    assert duplicated, "the relay died after publishing, so its batch must have gone out twice"
    assert set(duplicated.values()) == {2}
    assert len(duplicated) <= published_unmarked
    await sc.assert_ledger(database, stream.final, len(commands))
    print(f"relay died after publishing {on_topic} events; {len(duplicated)} published twice")
    record(
        "outbox relay killed between publish and mark",
        faults=1,
        inputs=len(commands),
        euros_lost=0,
        alerts_duplicated=0,
        seconds=round(time.monotonic() - began, 1),
    )


def _count(database: Database, schema: str, sql: str):  # type: ignore[no-untyped-def]
    async def probe() -> int:
        return await database.fetchval(schema, sql)  # type: ignore[return-value]

    return probe
