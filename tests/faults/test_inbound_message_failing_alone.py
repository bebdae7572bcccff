"""Funding's Kafka way in, with a message that passes every rule and still fails in the
database for a reason no retry can cure (here a trigger stands in for a bug or for a
constraint the rules missed; issue 22, "a batch that keeps failing must be dead-lettered
after a bounded number of tries, never block its partition").

Before, the inbound consumer rolled the batch back and took it again for ever: every
institution's message on that partition waited behind it. Now, after
REGIA_CONSUMER_MAX_ATTEMPTS failures in a row, the batch is taken message by message:
the healthy ones are recorded once, the failing one is rejected (`unprocessable`) on
`regia.funding.inbound.rejected.v1` with nothing of it recorded, and the partition goes on."""

import json

import pytest

from regia_shared.contracts import topics

from ..support import kafka
from ..support.figures import record
from ..support.funding_api import commitment, counts, issue_key, running_funding
from ..support.infra import Database
from ..support.wait import eventually

ATTEMPTS = 2


@pytest.fixture
async def funding_splitting_early(service_env, broker, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_CONSUMER_MAX_ATTEMPTS", str(ATTEMPTS))
    async for service in running_funding(broker.bootstrap_servers):
        yield service


async def test_a_message_failing_alone_is_rejected_and_its_partition_goes_on(  # type: ignore[no-untyped-def]
    funding_splitting_early, broker, database: Database
) -> None:
    key = await issue_key(funding_splitting_early, "regione-liguria")
    conn = await database.connect("funding")
    try:
        await conn.execute("""
            CREATE FUNCTION refuse_cursed_line() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.line_id = 'CURSED' THEN RAISE EXCEPTION 'a bug the rules did not see'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_cursed_line BEFORE INSERT ON funding_lines
                FOR EACH ROW EXECUTE FUNCTION refuse_cursed_line();""")
    finally:
        await conn.close()

    def message(line_id: str) -> tuple[bytes, list[tuple[str, bytes]]]:
        return (
            json.dumps(commitment(line_id)).encode(),
            [("authorization", key["Authorization"].encode()), ("idempotency-key", line_id.encode())],
        )

    # One partition (one message key): the cursed message sits between two healthy ones.
    await kafka.publish_raw(
        broker.bootstrap_servers,
        topics.FUNDING_INBOUND,
        [message("BEFORE"), message("CURSED"), message("AFTER")],
        key=b"regione-liguria",
    )

    rejected = await kafka.read_records(broker.bootstrap_servers, topics.FUNDING_INBOUND_REJECTED, expect=1, timeout=90)
    assert rejected, "the failing message was never set aside: its batch is retried for ever"
    reason = json.loads(rejected[0].value)
    assert reason["error"] == "unprocessable"
    assert f"{ATTEMPTS} times" in reason["message"] and "RaiseError" in reason["message"]
    assert "a bug the rules did not see" not in reason["message"]  # internals stay in the log
    assert json.loads(reason["original"]["value"])["line_id"] == "CURSED"
    assert "authorization" not in reason["original"]["headers"]

    async def recorded() -> tuple[int, int, int] | None:
        got = await counts(database)
        return got if got == (2, 2, 2) else None

    await eventually(recorded, timeout=60, what="the two healthy commitments recorded once each")
    lines = await database.fetch("funding", "SELECT line_id FROM funding_lines ORDER BY line_id")
    assert [r["line_id"] for r in lines] == ["AFTER", "BEFORE"]

    # The partition goes on: a later message on it is recorded too.
    await kafka.publish_raw(
        broker.bootstrap_servers, topics.FUNDING_INBOUND, [message("LATER")], key=b"regione-liguria"
    )

    async def later() -> bool:
        return (await counts(database))[0] == 3

    await eventually(later, timeout=60, what="a message behind the rejected one recorded")
    record("funding inbound: a message failing alone rejected after a bounded retry", faults=1, inputs=4, euros_lost=0)
