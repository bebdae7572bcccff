"""Every consumer, killed with SIGKILL in the middle of a batch and started again, leaves
exactly the state a fault-free run of the same stream gives: the coverage per
objective-year, the ledger, the projections, one delivery per (event, recipient).

Each case feeds all the consumers of one service a stream at a steady pace, waits until
the consumer under test has applied between 20 % and 80 % of its events, then SIGKILLs
the service process while one of its transactions has written and not committed (the
batch in flight dies with it; offsets of batches not yet acknowledged are redelivered),
restarts it and compares with the state computed from the stream.
"""

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from regia_shared.contracts import topics
from regia_shared.contracts.levels import GovernmentLevel

from ..support import faults, kafka
from ..support.faults import LONG, interleave, of, paced
from ..support.figures import record
from ..support.infra import Database
from ..support.partners import institution_registered
from ..support.services import ADMIN_HEADERS
from ..support.smtp import SmtpCapture
from ..support.system import running_system
from ..support.wait import eventually
from . import scenarios as sc

pytestmark = pytest.mark.e2e
SCALE = 3 if LONG else 1

OBJECTIVES_CONSUMERS = ["objectives.funding", "objectives.partners"]
FUNDING_CONSUMERS = ["funding.partners", "funding.objectives", "funding.inbound"]
NOTIFIER_CONSUMERS = ["notifier.partners", "notifier.coverage", "notifier.funding"]


@pytest.mark.parametrize("consumer", OBJECTIVES_CONSUMERS)
async def test_objectives_consumer_killed_mid_batch(
    consumer: str,
    service_env,
    database: Database,
    broker,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    stream = sc.coverage_stream(300 * SCALE)
    leads, lead_of = sc.lead_stream(150 * SCALE, stream.objectives)
    totals = {"objectives.funding": len(stream.events), "objectives.partners": len(leads)}
    with running_system(service_env, tmp_path) as system:
        objectives = system.start("objectives")
        await sc.define_objectives(objectives.url, stream.objectives)
        feed = asyncio.create_task(
            paced(broker.bootstrap_servers, interleave(of(topics.FUNDING, stream.events), of(topics.PARTNERS, leads)))
        )
        kill = await faults.kill_mid_batch(
            system,
            "objectives",
            database,
            schema="objectives",
            progress=faults.inbox_count(database, "objectives", consumer),
            total=totals[consumer],
            table=faults.record_table(consumer),
        )
        await feed
        system.start("objectives")
        for name, total in totals.items():
            await faults.settle(faults.inbox_count(database, "objectives", name), total, what=name)
        await sc.assert_coverage(objectives.url, stream)
    held = await database.fetch("objectives", "SELECT objective_id, partner_id FROM node_leads")
    assert {r["objective_id"]: r["partner_id"] for r in held} == lead_of
    _report(consumer, kill, sum(totals.values()), began)


@pytest.mark.parametrize("consumer", FUNDING_CONSUMERS)
async def test_funding_consumer_killed_mid_batch(
    consumer: str,
    service_env,
    database: Database,
    broker,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    stream = sc.coverage_stream(300 * SCALE, objectives=4, lines_per=5)
    institutions, name_of = sc.renamed_institutions(120 * SCALE)
    references, title_of = sc.retitled_objectives(120 * SCALE)
    await kafka.publish(
        broker.bootstrap_servers,
        topics.PARTNERS,
        [institution_registered("regione-liguria", "Regione Liguria", GovernmentLevel.REGIONE)],
    )
    with running_system(service_env, tmp_path) as system:
        funding = system.start("funding")
        objectives = system.start("objectives")
        key = await sc.prepare_funding(funding.url, objectives.url, stream.objectives)

        commands = sc.inbound_commands(stream, key, "por-fesr-liguria")
        accepted = _count(database, "funding", "SELECT count(*) FROM idempotency_keys")
        progress = {
            "funding.partners": faults.inbox_count(database, "funding", "funding.partners"),
            "funding.objectives": faults.inbox_count(database, "funding", "funding.objectives"),
            "funding.inbound": accepted,
        }
        # funding.objectives also has the objectives' own ObjectiveDefined events already.
        before = {name: await probe() for name, probe in progress.items()}
        totals = {
            "funding.partners": before["funding.partners"] + len(institutions),
            "funding.objectives": before["funding.objectives"] + len(references),
            "funding.inbound": len(commands),
        }
        feed = asyncio.create_task(
            paced(
                broker.bootstrap_servers,
                interleave(commands, of(topics.PARTNERS, institutions), of(topics.OBJECTIVES, references)),
            )
        )
        kill = await faults.kill_mid_batch(
            system,
            "funding",
            database,
            schema="funding",
            progress=_since(progress[consumer], before[consumer]),
            total=totals[consumer] - before[consumer],
            table="idempotency_keys" if consumer == "funding.inbound" else "inbox",
        )
        await feed
        system.start("funding")
        for name, total in totals.items():
            await faults.settle(progress[name], total, what=name)
        await faults.settle(
            faults.inbox_count(database, "objectives", "objectives.funding"), len(commands), what="objectives.funding"
        )
        await sc.assert_coverage(objectives.url, stream)
    await sc.assert_ledger(database, stream.final, len(commands))
    rows = await database.fetch("funding", "SELECT institution_id, name FROM institutions")
    assert {r["institution_id"]: r["name"] for r in rows} == {**name_of, "regione-liguria": "Regione Liguria"}
    rows = await database.fetch("funding", "SELECT objective_id, title FROM known_objectives")
    assert {r["objective_id"]: r["title"] for r in rows} == {
        **title_of,
        **{o: f"Objective {o}" for o in stream.objectives},
    }
    _report(consumer, kill, len(commands) + len(institutions) + len(references), began)


@pytest.mark.parametrize("consumer", NOTIFIER_CONSUMERS)
async def test_notifier_consumer_killed_mid_batch(
    consumer: str,
    service_env,
    database: Database,
    broker,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    alerted = [f"A-{n}" for n in range(4)]
    directory, recipients = sc.partner_directory_stream(30 * SCALE)
    changes = sc.status_changes(150 * SCALE, alerted)
    revoked = sc.revocations(150 * SCALE, alerted)
    totals = {
        "notifier.partners": len(directory),
        "notifier.coverage": len(changes),
        "notifier.funding": len(revoked),
    }
    setup = sc.liguria_directory(alerted)
    await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, setup)
    env = {
        **service_env,
        "REGIA_NOTIFIER_BACKOFF_BASE_S": "0.2",
        "REGIA_NOTIFIER_BACKOFF_MAX_S": "0.5",
        # A claim cut by the kill runs out in seconds, not the default two minutes.
        "REGIA_NOTIFIER_LEASE_S": "4",
        "REGIA_SMTP_TIMEOUT_S": "3",
        "REGIA_NOTIFIER_WEBHOOK_TIMEOUT_S": "3",
        "REGIA_NOTIFIER_POLL_INTERVAL_S": "0.5",
    }
    with SmtpCapture() as smtp, running_system({**env, "REGIA_SMTP_PORT": str(smtp.port)}, tmp_path) as system:
        notifier = system.start("notifier")
        async with httpx.AsyncClient(base_url=notifier.url, headers=ADMIN_HEADERS, timeout=10) as admin:

            async def projected() -> bool:
                found = [len((await admin.get(f"/v1/objectives/{o}/recipients")).json()["contacts"]) for o in alerted]
                return found == [2] * len(alerted)

            await eventually(projected, what="Liguria's contacts projected as the lead's")
            base = {"notifier.partners": len(setup), "notifier.coverage": 0, "notifier.funding": 0}
            feed = asyncio.create_task(
                paced(
                    broker.bootstrap_servers,
                    interleave(
                        of(topics.PARTNERS, directory),
                        of(topics.OBJECTIVES_COVERAGE, changes),
                        of(topics.FUNDING, revoked),
                    ),
                )
            )
            kill = await faults.kill_mid_batch(
                system,
                "notifier",
                database,
                schema="notifier",
                total=totals[consumer],
                progress=_since(faults.inbox_count(database, "notifier", consumer), base[consumer]),
                table=faults.record_table(consumer),
            )
            await feed
            system.start("notifier")
            for name, total in totals.items():
                await faults.settle(faults.inbox_count(database, "notifier", name), total + base[name], what=name)
            for objective, emails in recipients.items():
                body = (await admin.get(f"/v1/objectives/{objective}/recipients")).json()
                assert {c["email"] for c in body["contacts"]} == emails, body

            async def all_delivered() -> bool:
                return await sc.all_alerts_delivered(database, 2 * (len(changes) + len(revoked)))

            await eventually(all_delivered, timeout=60, what="every alert delivered")
            report = await sc.assert_deliveries(database, smtp, changes + revoked + sc.briefed(setup))
    print(f"{consumer}: {report}")
    # A send the kill interrupted goes out again with its Message-ID: counted, not hidden.
    _report(consumer, kill, sum(totals.values()), began, alerts_resent=report.duplicate_mails)


def _count(database: Database, schema: str, sql: str):  # type: ignore[no-untyped-def]
    async def probe() -> int:
        return await database.fetchval(schema, sql)  # type: ignore[return-value]

    return probe


def _since(probe, base: int):  # type: ignore[no-untyped-def]
    async def progress() -> int:
        return await probe() - base

    return progress


def _report(consumer: str, kill: faults.Kill, inputs: int, began: float, **extra: float) -> None:
    print(f"{consumer}: killed at {kill.progress}/{kill.total}, batch in flight: {kill.in_flight}")
    record(
        f"sigkill {consumer} mid-batch",
        faults=1,
        inputs=inputs,
        euros_lost=0,
        seconds=round(time.monotonic() - began, 1),
        **{"alerts_duplicated": 0, **extra},
    )
