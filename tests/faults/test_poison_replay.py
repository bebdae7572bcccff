"""A poison message replayed once fixed is applied exactly once.

The funding service is deployed a release ahead and publishes FundingCommitted version 2
(its amount renamed `committed_amount_cents`) while objectives still reads version 1 only.
The v2 event is dead-lettered and the v1 events after it on the partition are applied.
Replayed before the fix, it is still poison: it stays pending and nothing moves. Then objectives is
deployed with an upcaster that reads version 2 (the test restarts the service process
with that code on its PYTHONPATH, as a deploy replaces the code), the operator runs
`regia poison list` and `regia poison replay`, and the commitment is counted: once, even
when the operator replays the same dead letter again.
"""

import os
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from regia.cli import app
from regia_shared.contracts import topics

from ..support import kafka
from ..support.figures import record
from ..support.funding import line_event
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, ADMIN_TOKEN
from ..support.system import running_system
from ..support.wait import eventually

pytestmark = pytest.mark.e2e
OBJECTIVE, NEED = "obj-replay", 1_000_000_00
V1_AMOUNT, V2_AMOUNT, LATE_AMOUNT = 200_000_00, 300_000_00, 1
CONSUMER = "objectives.funding"

# The deploy: objectives' code gains a reader of FundingCommitted version 2. Installed as
# sitecustomize, it is in place before the service imports its consumer.
UPCASTER = textwrap.dedent("""
    import regia_shared.contracts.events.registry as registry

    _parse_v1 = registry.parse_payload

    def parse_payload(envelope):
        if envelope.type == "FundingCommitted" and envelope.version == 2:
            payload = dict(envelope.payload)
            payload["committed_cents"] = payload.pop("committed_amount_cents")
            return registry.EVENT_TYPES["FundingCommitted"].model_validate(payload)
        return _parse_v1(envelope)

    registry.parse_payload = parse_payload
""")


def version_2(line: str, amount: int) -> bytes:
    v1 = line_event("commit", line, OBJECTIVE, amount, 1, delta=amount)
    payload = dict(v1.payload)
    payload["committed_amount_cents"] = payload.pop("committed_cents")
    return v1.model_copy(update={"version": 2, "payload": payload}).to_json()


def regia(*args: str, url: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["poison", *args], env={"REGIA_ADMIN_TOKEN": ADMIN_TOKEN, "REGIA_OBJECTIVES_URL": url}
    )
    return result.exit_code, result.output


async def test_a_dead_letter_replayed_after_the_fix_is_applied_exactly_once(  # type: ignore[no-untyped-def]
    service_env, database: Database, broker, tmp_path: Path
) -> None:
    began = time.monotonic()
    bootstrap = broker.bootstrap_servers
    deploy = tmp_path / "deploy-v2"
    deploy.mkdir()
    (deploy / "sitecustomize.py").write_text(UPCASTER)
    ahead = version_2("REP-2", V2_AMOUNT)

    async def send(*values: bytes) -> None:
        await kafka.publish_raw(bootstrap, topics.FUNDING, [(v, []) for v in values], key=OBJECTIVE.encode())

    async def committed() -> int:
        async with httpx.AsyncClient(timeout=10) as client:
            body = (await client.get(f"{objectives.url}/v1/objectives/{OBJECTIVE}")).json()
        return body["years"][0]["committed_cents"]

    async def committed_is(cents: int, what: str) -> None:
        async def probe() -> bool:
            return await committed() == cents

        await eventually(probe, timeout=60, what=what)

    async def dead_letters() -> list:
        return await database.fetch(
            "objectives", "SELECT id, error, replayed_at FROM dead_letters WHERE consumer = $1 ORDER BY id", CONSUMER
        )

    with running_system(service_env, tmp_path) as system:
        objectives = system.start("objectives")
        async with httpx.AsyncClient(headers=ADMIN_HEADERS, timeout=10) as admin:
            r = await admin.post(
                f"{objectives.url}/v1/objectives",
                json={
                    "objective_id": OBJECTIVE,
                    "title": "Replay",
                    "needs": [{"fiscal_year": 2027, "need_cents": NEED}],
                },
            )
            assert r.status_code == 201, r.text

        # v2 before the consumer reads it: set aside; the v1 event after it is applied.
        await send(ahead, line_event("commit", "REP-1", OBJECTIVE, V1_AMOUNT, 1, delta=V1_AMOUNT).to_json())
        await committed_is(V1_AMOUNT, "the v1 commitment after the poison applied")
        [first] = await dead_letters()
        assert "FundingCommitted version 2 is not supported" in first["error"]

        # Replayed before the fix: still poison, left pending with this attempt's error, and
        # nothing moves.
        code, out = regia("replay", "--consumer", CONSUMER, "--all", url=objectives.url)
        assert code == 1 and f"{first['id']}: still poison, left pending" in out, out
        [pending] = await dead_letters()
        assert pending["id"] == first["id"] and pending["replayed_at"] is None
        assert "FundingCommitted version 2 is not supported" in pending["error"]
        assert await committed() == V1_AMOUNT

        # The fix: objectives deployed with a reader of version 2.
        system.processes["objectives"].stop()
        path = os.pathsep.join(p for p in (str(deploy), os.environ.get("PYTHONPATH", "")) if p)
        system.start("objectives", extra_env={"PYTHONPATH": path})

        code, out = regia("list", "--consumer", CONSUMER, url=objectives.url)
        assert code == 0 and f"  {pending['id']}  {CONSUMER}" in out and "version 2 is not supported" in out, out
        code, out = regia("replay", "--service", "objectives", str(pending["id"]), url=objectives.url)
        assert code == 0 and "replayed 1 dead letter" in out, out
        await committed_is(V1_AMOUNT + V2_AMOUNT, "the replayed v2 commitment applied")

        # The same record once more (a replay whose `replayed_at` was lost), then a late
        # event behind it on the partition: when the late one shows, the duplicate was read.
        await send(ahead, line_event("commit", "REP-3", OBJECTIVE, LATE_AMOUNT, 1, delta=LATE_AMOUNT).to_json())
        await committed_is(V1_AMOUNT + V2_AMOUNT + LATE_AMOUNT, "the event after the duplicate applied")
        # And the operator replaying the same dead letter again changes nothing either.
        code, out = regia("replay", "--consumer", CONSUMER, str(pending["id"]), url=objectives.url)
        assert code == 1 and f"{pending['id']}: replayed before, left alone" in out, out
        code, out = regia("list", "--consumer", CONSUMER, url=objectives.url)
        assert code == 0 and "no poison messages" in out, out

        assert await committed() == V1_AMOUNT + V2_AMOUNT + LATE_AMOUNT
        # objectives keeps no inbox for funding lines: each version applied is one history row.
        applied = await database.fetchval("objectives", "SELECT count(*) FROM allocation_changes")
        assert applied == 3, "REP-1, the replayed REP-2 and REP-3: each once"
        assert len(await dead_letters()) == 1, "nothing more was set aside"

    record(
        "poison replayed after the fix", faults=1, inputs=1, euros_lost=0, seconds=round(time.monotonic() - began, 1)
    )
