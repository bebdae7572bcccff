"""Every event delivered three times, in a shuffled order (a line's versions arrive out of
order, across lines and objectives), and the partner events twice: the coverage is the
newest version of every line, summed, and each alert goes once to each recipient, as
if every event had arrived once and in order."""

import random
import time
from pathlib import Path

import httpx
import pytest

from regia_objectives.entrypoints.consumers import PARTNER_TYPES
from regia_shared.contracts import topics

from ..support import faults, kafka
from ..support.faults import LONG
from ..support.figures import record
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS
from ..support.smtp import SmtpCapture
from ..support.system import running_system
from ..support.wait import eventually
from . import scenarios as sc

pytestmark = pytest.mark.e2e
COPIES = 3


async def test_each_event_three_times_shuffled_counts_once(
    service_env,
    database: Database,
    broker,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    rng = random.Random(2029)
    stream = sc.coverage_stream(600 if LONG else 200)
    alerted = [f"A-{n}" for n in range(3)]
    changes = sc.status_changes(60, alerted)
    revoked = sc.revocations(30, alerted)
    leads, lead_of = sc.lead_stream(40, stream.objectives)
    funding_copies = [e for e in stream.events + revoked for _ in range(COPIES)]
    rng.shuffle(funding_copies)
    status_copies = [e for e in changes for _ in range(COPIES)]
    rng.shuffle(status_copies)
    # Partner events keep their order per key (the partners service publishes them so),
    # but each comes twice: once, and again after the whole directory (a replay).
    directory = sc.liguria_directory(alerted) + leads
    env = {**service_env, "REGIA_NOTIFIER_BACKOFF_BASE_S": "0.2", "REGIA_NOTIFIER_BACKOFF_MAX_S": "0.5"}
    with SmtpCapture() as smtp, running_system({**env, "REGIA_SMTP_PORT": str(smtp.port)}, tmp_path) as system:
        objectives = system.start("objectives")
        notifier = system.start("notifier")
        await sc.define_objectives(objectives.url, stream.objectives)
        await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, [e for copy in (1, 2) for e in directory])
        async with httpx.AsyncClient(base_url=notifier.url, headers=ADMIN_HEADERS, timeout=10) as admin:

            async def projected() -> bool:
                found = [len((await admin.get(f"/v1/objectives/{o}/recipients")).json()["contacts"]) for o in alerted]
                return found == [2] * len(alerted)

            await eventually(projected, what="Liguria's contacts projected as the lead's")
        await kafka.publish(broker.bootstrap_servers, topics.FUNDING, funding_copies)
        await kafka.publish_objectives(broker.bootstrap_servers, status_copies)

        await faults.settle(
            faults.inbox_count(database, "objectives", "objectives.funding"),
            faults.line_versions(stream.events + revoked),  # each revocation is its line's version 2
            what="objectives.funding",
        )
        await faults.settle(
            faults.inbox_count(database, "objectives", "objectives.partners"),
            # The leads, and the registrations: objectives keeps who is registered, since a
            # plan file may name only them (issue 19).
            len([e for e in directory if e.type in PARTNER_TYPES]),
            what="objectives.partners",
        )
        # Every funding event, not only the revocations: each is recorded as a cause.
        await faults.settle(
            faults.inbox_count(database, "notifier", "notifier.funding"),
            len(stream.events) + len(revoked),
            what="notifier.funding",
        )

        async def all_delivered() -> bool:
            return await sc.all_alerts_delivered(database, 2 * (len(changes) + len(revoked)))

        await eventually(all_delivered, timeout=60, what="every alert delivered")
        await sc.assert_coverage(objectives.url, stream)  # A-n are not objectives here: their lines wait
        report = await sc.assert_deliveries(database, smtp, changes + revoked + sc.briefed(directory))
    held = await database.fetch("objectives", "SELECT objective_id, partner_id FROM node_leads")
    assert {r["objective_id"]: r["partner_id"] for r in held} == {**lead_of, **{o: "regione-liguria" for o in alerted}}
    assert report.duplicate_mails == 0
    inputs = COPIES * (len(stream.events) + len(revoked) + len(changes)) + 2 * len(directory)
    record(
        "each event 3x, shuffled; partner events twice",
        faults=inputs - len(stream.events) - len(revoked) - len(changes) - len(directory),
        inputs=inputs,
        euros_lost=0,
        alerts_duplicated=0,
        seconds=round(time.monotonic() - began, 1),
    )
