"""Two transactions recording the same request at once, forced to overlap against a real
PostgreSQL: the one that reads before the other commits decides on what it read, fails
where the other's rows stand in its way, runs again and answers the first one's answer.
One ledger entry, one key record, one event: a replica, a redelivery or an import racing an
HTTP request never double-counts money."""

import asyncio
from dataclasses import replace

import asyncpg
from pydantic import TypeAdapter

from regia_funding.domain.commands import FundingCommand
from regia_funding.entrypoints.events_http import _fingerprint
from regia_funding.service_layer.group_commit import record_together
from regia_funding.service_layer.recording import Caller, FundingRequest, Outcome, record_requests
from regia_shared.contracts.refusal import Refused
from regia_shared.db import create_pool

from ..support.funding_api import commitment, issue_key
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS

COMMAND = TypeAdapter(FundingCommand)


def request(line_id: str, key: str) -> FundingRequest:
    commands = [COMMAND.validate_python(commitment(line_id, amount=5_000))]
    return FundingRequest(
        Caller("regione-liguria", None, channel="kafka"),
        commands,
        False,
        key,
        _fingerprint(commands, "kafka"),
        f"race-{key}",
    )


async def counts(conn: asyncpg.Connection, line_id: str, key: str) -> tuple[int, int, int]:
    return (
        await conn.fetchval("SELECT count(*) FROM ledger_entries WHERE line_id = $1", line_id),
        await conn.fetchval("SELECT count(*) FROM idempotency_keys WHERE idempotency_key = $1", key),
        await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE key = 'miglio-blu' AND correlation_id = $1", f"race-{key}"
        ),
    )


async def racing(
    database: Database, first_request: FundingRequest, second_request: FundingRequest, waits_on: str
) -> tuple[Outcome | Refused, Outcome]:
    """Two requests in two transactions: the first holds its writes uncommitted while the
    second reads, decides and waits in the statement starting `waits_on`, then commits; the
    second's outcome, and the first's."""
    first = await database.connect("funding")
    pool = await create_pool(database.dsn, "funding", max_size=2)
    try:
        async with first.transaction():
            (held,) = await record_requests(first, [first_request])
            second = asyncio.create_task(record_together(pool, [second_request]))
            # The second has read (the line and the key not yet there) and waits on the
            # first's line on inserting its own: the first's commit ends that wait.
            async with pool.acquire() as probe:
                for _ in range(200):
                    waiting = await probe.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND starts_with(query, $1)",
                        waits_on,
                    )
                    if waiting:
                        break
                    await asyncio.sleep(0.05)
                assert waiting == 1, f"the second transaction never waited in {waits_on!r}"
        (answered,) = await second
        assert isinstance(held, Outcome)
        return answered, held
    finally:
        await pool.close()
        await first.close()


async def test_a_request_racing_itself_is_recorded_once_and_answered_alike(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    same = request("RACE-1", "race-key-1")
    # It reads neither the line nor the key, and waits on the line it opens too.
    answered, held = await racing(database, same, same, "WITH w0 AS (INSERT INTO funding_lines")
    assert isinstance(answered, Outcome) and answered.replayed and not held.replayed
    assert answered.body == held.body and answered.status == held.status == 202
    assert held.body["line_id"] == "RACE-1" and held.body["committed_cents"] == 5_000
    conn = await database.connect("funding")
    try:
        assert await counts(conn, "RACE-1", "race-key-1") == (1, 1, 1)
    finally:
        await conn.close()


async def test_a_key_taken_meanwhile_by_another_request_refuses_this_one_and_writes_nothing(  # type: ignore[no-untyped-def]
    funding, database: Database
) -> None:
    # Another line, so nothing waits before the keys: their insert does, and skips the taken one.
    answered, held = await racing(
        database,
        request("RACE-2", "race-key-2"),
        request("RACE-3", "race-key-2"),
        "WITH w0 AS (INSERT INTO idempotency_keys",
    )
    assert isinstance(answered, Refused) and answered.code == "idempotency_key_reused", answered
    assert held.body["line_id"] == "RACE-2"
    conn = await database.connect("funding")
    try:
        assert await counts(conn, "RACE-2", "race-key-2") == (1, 1, 1)
        assert await conn.fetchval("SELECT count(*) FROM funding_lines WHERE line_id = 'RACE-3'") == 0
    finally:
        await conn.close()


async def test_a_group_of_requests_costs_three_statements_whatever_it_holds(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    """The round trips are the cost at a steady rate (docs/performance.md): a group opening
    lines, revising one, replaying a key and refusing a request is one read and two writes."""
    conn = await database.connect("funding")
    sent: list[str] = []
    conn.add_query_logger(lambda q: sent.append(q.query))
    try:
        async with conn.transaction():
            await record_requests(conn, [request("COUNT-1", "count-1"), request("COUNT-2", "count-2")])
        sent.clear()
        revise = COMMAND.validate_python({"type": "revision", "line_id": "COUNT-1", "committed_cents": 7_000})
        async with conn.transaction():
            outcomes = await record_requests(
                conn,
                [
                    request("COUNT-3", "count-3"),
                    FundingRequest(
                        Caller("regione-liguria", None, channel="kafka"),
                        [revise],
                        False,
                        "count-4",
                        _fingerprint([revise], "kafka"),
                        "race-count-4",
                    ),
                    request("COUNT-1", "count-1"),  # a replay
                    request("COUNT-5", "count-1"),  # the same key for something else: refused
                ],
            )
        assert [type(o).__name__ for o in outcomes] == ["Outcome", "Outcome", "Outcome", "IdempotencyKeyReused"]
        statements = [q for q in sent if not q.startswith(("BEGIN", "COMMIT"))]
        assert len(statements) == 3, statements
        assert statements[0].startswith("SELECT") and all(q.startswith("WITH w0 AS") for q in statements[1:])
    finally:
        await conn.close()


async def test_a_key_revoked_after_it_was_verified_records_nothing(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    """An HTTP request's key may come from the replica's memory of verified keys: the
    transaction that would record it reads the key's revocation again, in its one read."""
    live = await issue_key(funding, "regione-liguria")
    revoked = await issue_key(funding, "regione-liguria")
    key_id = revoked["Authorization"].removeprefix("Bearer rgk_").partition(".")[0]
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        assert (await admin.delete(f"/v1/keys/{key_id}")).status_code == 204
    live_id = live["Authorization"].removeprefix("Bearer rgk_").partition(".")[0]

    def keyed(line_id: str, key: str, key_id: str | None) -> FundingRequest:
        made = request(line_id, key)
        return replace(made, caller=Caller("regione-liguria", key_id, channel="http"))

    conn = await database.connect("funding")
    try:
        async with conn.transaction():
            outcomes = await record_requests(
                conn,
                [
                    keyed("KEY-1", "key-1", key_id),
                    keyed("KEY-2", "key-2", live_id),
                    keyed("KEY-3", "key-3", "never-issued"),
                    keyed("KEY-4", "key-4", None),  # no key: an officer's session, an import
                ],
            )
        assert [type(o).__name__ for o in outcomes] == ["KeyNotValid", "Outcome", "KeyNotValid", "Outcome"]
        assert isinstance(outcomes[0], Refused) and outcomes[0].status == 401
        for line_id, written in (("KEY-1", 0), ("KEY-2", 1), ("KEY-3", 0), ("KEY-4", 1)):
            assert await conn.fetchval("SELECT count(*) FROM ledger_entries WHERE line_id = $1", line_id) == written
        assert (
            await conn.fetchval("SELECT count(*) FROM idempotency_keys WHERE idempotency_key IN ('key-1', 'key-3')")
            == 0
        )
    finally:
        await conn.close()
