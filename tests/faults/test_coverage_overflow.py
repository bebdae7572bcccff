"""Coverage far above 100 %, needs at the edge of what the API accepts, and an event no
retry can apply (issue 22).

`coverage_bp` was a 32-bit column: €2,150,000 committed against a €10 need is
2,150,000,000 basis points, above 2**31 - 1, so the projection's transaction failed in
PostgreSQL, the consumer took the batch again every second for ever, and every objective
on that partition stopped moving; `PUT .../needs` answered 500 the same way. Here the
commitment flows through the funding service into objectives on the real broker and
PostgreSQL, and objectives on the same partition committed afterwards must still be
updated; a need of one cent against it answers 200, and needs the API cannot hold answer
422 naming `need_cents`.

A batch that fails for a reason no retry can cure (here: the second of two lines of
€600 billion, which together exceed the €1 trillion an event can carry) is taken again a
bounded number of times (REGIA_CONSUMER_MAX_ATTEMPTS), then split: the healthy events are
applied and the failing one is dead-lettered with its error, like a poison message, and
the partition goes on.
"""

import time
from pathlib import Path

import httpx
import pytest
from aiokafka.partitioner import murmur2

from regia_shared.contracts import topics
from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.contracts.money import MAX_CENTS

from ..support import kafka
from ..support.figures import record
from ..support.funding import line_event
from ..support.infra import Database
from ..support.partners import institution_registered
from ..support.services import ADMIN_HEADERS, REASON_HEADERS
from ..support.system import running_system
from ..support.wait import eventually
from .test_infra_postgres_restart import set_up

pytestmark = pytest.mark.e2e
PARTITIONS = 3  # base_env's REGIA_KAFKA_PARTITIONS
BIG, TEN_EUROS, COMMITTED = "obj-overflow", 10_00, 2_150_000_00
NEIGHBOUR_CENTS = 1_000_00
CONSUMER = "objectives.funding"


def partition_of(key: str) -> int:
    """The partition the producers' default partitioner (murmur2) puts a key on."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % PARTITIONS


def neighbours_of(key: str, n: int) -> list[str]:
    """`n` objective ids whose events land on the same partition as `key`'s."""
    found = [f"obj-neighbour-{i}" for i in range(100) if partition_of(f"obj-neighbour-{i}") == partition_of(key)]
    return found[:n]


async def year_of(client: httpx.AsyncClient, url: str, objective: str) -> dict:
    body = (await client.get(f"{url}/v1/objectives/{objective}")).json()
    return next((y for y in body["years"] if y["fiscal_year"] == 2027), {})


async def test_coverage_far_above_the_need_is_exact_and_the_partition_goes_on(  # type: ignore[no-untyped-def]
    service_env, database: Database, broker, tmp_path: Path
) -> None:
    began = time.monotonic()
    neighbours = neighbours_of(BIG, 2)
    await kafka.publish(
        broker.bootstrap_servers,
        topics.PARTNERS,
        [institution_registered("regione-liguria", "Regione Liguria", GovernmentLevel.REGIONE)],
    )
    with running_system(service_env, tmp_path) as system:
        funding, objectives = system.start("funding"), system.start("objectives")
        key = await set_up(funding.url, objectives.url, [BIG, *neighbours])
        async with (
            httpx.AsyncClient(headers=ADMIN_HEADERS, timeout=10) as admin,
            httpx.AsyncClient(
                base_url=funding.url, timeout=10, headers={"Authorization": f"Bearer {key}", **REASON_HEADERS}
            ) as institution,
        ):
            r = await admin.put(f"{objectives.url}/v1/objectives/{BIG}/needs/2027", json={"need_cents": TEN_EUROS})
            assert r.status_code == 200, r.text

            async def commit(line: str, objective: str, cents: int) -> None:
                r = await institution.post(
                    "/v1/funding-events",
                    headers={"Idempotency-Key": line},
                    json={
                        "type": "commitment",
                        "line_id": line,
                        "instrument_id": "por-fesr-liguria",
                        "objective_id": objective,
                        "fiscal_year": 2027,
                        "committed_cents": cents,
                    },
                )
                assert r.status_code == 202, r.text

            # The commitment first, then money for objectives on the same partition.
            await commit("OVF-BIG", BIG, COMMITTED)
            for i, neighbour in enumerate(neighbours):
                await commit(f"OVF-N{i}", neighbour, NEIGHBOUR_CENTS)

            async def neighbours_updated() -> bool:
                years = [await year_of(admin, objectives.url, n) for n in neighbours]
                return all(y.get("committed_cents") == NEIGHBOUR_CENTS for y in years)

            await eventually(
                neighbours_updated, timeout=60, what="objectives on the same partition updated after the big commitment"
            )

            big = await year_of(admin, objectives.url, BIG)
            assert big["committed_cents"] == COMMITTED and big["need_cents"] == TEN_EUROS, big
            assert big["coverage_bp"] == COMMITTED * 10_000 // TEN_EUROS == 2_150_000_000, big
            assert big["coverage_pct"] == "21500000.00" and big["status"] == "FUNDED", big
            assert await database.fetchval("objectives", "SELECT count(*) FROM dead_letters") == 0

            # PUT needs: one cent against €2.15 million is 21.5 billion per cent, and answers.
            r = await admin.put(f"{objectives.url}/v1/objectives/{BIG}/needs/2027", json={"need_cents": 1})
            assert r.status_code == 200, r.text
            year = next(y for y in r.json()["years"] if y["fiscal_year"] == 2027)
            assert year["coverage_bp"] == COMMITTED * 10_000 and year["status"] == "FUNDED", year
            # The largest need the API accepts is stored and makes the objective AT_RISK.
            r = await admin.put(f"{objectives.url}/v1/objectives/{BIG}/needs/2027", json={"need_cents": MAX_CENTS})
            assert r.status_code == 200, r.text
            year = next(y for y in r.json()["years"] if y["fiscal_year"] == 2027)
            assert (year["need_cents"], year["coverage_bp"], year["status"]) == (MAX_CENTS, 0, "AT_RISK"), year
            # Above it, or absurd: 422 naming the field, and nothing changed.
            for absurd in (MAX_CENTS + 1, 10**20, 2**63):
                r = await admin.put(f"{objectives.url}/v1/objectives/{BIG}/needs/2027", json={"need_cents": absurd})
                assert r.status_code == 422 and r.json()["field"] == "need_cents", r.text
            assert (await year_of(admin, objectives.url, BIG))["need_cents"] == MAX_CENTS

    record(
        "coverage far above its need",
        faults=1,
        inputs=3 + len(neighbours),
        euros_lost=0,
        seconds=round(time.monotonic() - began, 1),
    )


PLAN_YAML = """\
id: plan-overflow
title: Overflow
territory: Comune della Spezia
first_year: 2026
last_year: 2029
at_risk_threshold_pct: 80
single_level_warning_pct: 75
nodes:
  - id: vis-overflow
    kind: VISION
    title: Vision
    children:
      - id: obj-overflow-a
        kind: OBJECTIVE
        title: A
        needs:
          2027: 100
      - id: obj-overflow-b
        kind: OBJECTIVE
        title: B
        needs:
          2027: 100
"""


async def test_a_need_whose_roll_up_the_contract_cannot_carry_is_a_422(  # type: ignore[no-untyped-def]
    service_env, database: Database, broker, tmp_path: Path
) -> None:
    """Each need is within the bound, but two of them add up, in their vision, above what
    an event can carry: refused naming need_cents (it was a 500), and nothing changed."""
    with running_system(service_env, tmp_path) as system:
        objectives = system.start("objectives")
        async with httpx.AsyncClient(base_url=objectives.url, headers=ADMIN_HEADERS, timeout=10) as admin:
            r = await admin.post(
                "/v1/plans/import", content=PLAN_YAML.encode(), headers={"Content-Type": "application/yaml"}
            )
            assert r.status_code == 200, r.text
            r = await admin.put("/v1/objectives/obj-overflow-a/needs/2027", json={"need_cents": MAX_CENTS - 100})
            assert r.status_code == 200, r.text
            r = await admin.put("/v1/objectives/obj-overflow-b/needs/2027", json={"need_cents": MAX_CENTS})
            assert r.status_code == 422, r.text
            body = r.json()
            assert body["field"] == "need_cents" and "vis-overflow" in body["message"], body
            vision = await year_of(admin, objectives.url, "vis-overflow")
            assert vision["need_cents"] == MAX_CENTS, vision
            assert (await year_of(admin, objectives.url, "obj-overflow-b"))["need_cents"] == 100
    record("need above what a roll-up can carry", faults=1, inputs=2, euros_lost=0)


OVER, HALF_TRILLION_PLUS = "obj-over-contract", 60_000_000_000_000


async def test_a_batch_that_keeps_failing_is_split_and_its_failing_event_dead_lettered(  # type: ignore[no-untyped-def]
    service_env, database: Database, broker, tmp_path: Path
) -> None:
    began = time.monotonic()
    attempts = 3
    neighbour = neighbours_of(OVER, 1)[0]
    with running_system({**service_env, "REGIA_CONSUMER_MAX_ATTEMPTS": str(attempts)}, tmp_path) as system:
        objectives = system.start("objectives")
        async with httpx.AsyncClient(base_url=objectives.url, headers=ADMIN_HEADERS, timeout=10) as admin:
            for objective in (OVER, neighbour):
                r = await admin.post(
                    "/v1/objectives",
                    json={
                        "objective_id": objective,
                        "title": objective,
                        "needs": [{"fiscal_year": 2027, "need_cents": 100_000_000}],
                    },
                )
                assert r.status_code == 201, r.text
            first = line_event("commit", "OVC-1", OVER, HALF_TRILLION_PLUS, 1, delta=HALF_TRILLION_PLUS)
            second = line_event("commit", "OVC-2", OVER, HALF_TRILLION_PLUS, 1, delta=HALF_TRILLION_PLUS)
            healthy = line_event("commit", "OVC-N", neighbour, NEIGHBOUR_CENTS, 1, delta=NEIGHBOUR_CENTS)
            # One partition, in this order: the second line is the one no retry can apply.
            await kafka.publish_raw(
                broker.bootstrap_servers,
                topics.FUNDING,
                [(e.to_json(), []) for e in (first, second, healthy)],
                key=OVER.encode(),
            )

            async def healthy_applied() -> bool:
                return (await year_of(admin, objectives.url, neighbour)).get("committed_cents") == NEIGHBOUR_CENTS

            await eventually(healthy_applied, timeout=60, what="the event after the failing one applied")
            over = await year_of(admin, objectives.url, OVER)
            assert over["committed_cents"] == HALF_TRILLION_PLUS, "the first line applied, the second set aside"

            r = await admin.get("/v1/ops/dead-letters", params={"consumer": CONSUMER})
            [row] = r.json()["items"]
            assert row["key"] == OVER and str(second.event_id) in row["value"], row
            assert f"failed {attempts} times" in row["error"] and "committed_cents" in row["error"], row
            dlq = await kafka.read_records(broker.bootstrap_servers, topics.dead_letter(CONSUMER), expect=1)
            assert len(dlq) == 1 and dict(dlq[0].headers)["error"].decode() == row["error"][:1000]

            # The partition goes on: a later change to the same objective is applied.
            revised = line_event("revise", "OVC-1", OVER, 1_000_00, 2, delta=1_000_00 - HALF_TRILLION_PLUS)
            await kafka.publish_raw(
                broker.bootstrap_servers, topics.FUNDING, [(revised.to_json(), [])], key=OVER.encode()
            )

            async def revised_applied() -> bool:
                return (await year_of(admin, objectives.url, OVER)).get("committed_cents") == 1_000_00

            await eventually(revised_applied, timeout=60, what="a later event of the same partition applied")
            assert len((await admin.get("/v1/ops/dead-letters", params={"consumer": CONSUMER})).json()["items"]) == 1
    record(
        "batch failing for ever split and dead-lettered",
        faults=1,
        inputs=4,
        euros_lost=0,
        seconds=round(time.monotonic() - began, 1),
    )
