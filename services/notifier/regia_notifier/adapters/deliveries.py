"""asyncpg adapter for deliveries: planning them, and the dispatcher's claim, lease and
outcome bookkeeping. Claims use FOR UPDATE SKIP LOCKED, so replicas never take the same
delivery and never wait for one another."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from regia_shared.statements import Write

from ..domain.delivery import ClaimedDelivery, NewDelivery
from ..domain.retry import AttemptOutcome, DeliveryStatus


@dataclass(frozen=True)
class Step:
    """One attempt's outcome and what it moves its delivery to."""

    delivery_id: UUID
    attempt: int
    at: datetime
    duration_ms: int | None
    outcome: AttemptOutcome
    error: str | None
    status: DeliveryStatus
    retry_in_s: float | None


_CLAIMED = (
    "delivery_id",
    "attempts AS attempt",
    "cause_event_id",
    "correlation_id",
    "channel",
    "recipient",
    "recipient_name",
    "language",
    "subject",
    "body",
    "body_html",
    "retry_from",
    "origin_at",
    "contact_id",
    "kind",
    "trigger",
)


def _columns(alias: str = "") -> str:
    return ", ".join(f"{alias}{column}" for column in _CLAIMED)


_NEW = (
    "delivery_id",
    "cause_event_id",
    "correlation_id",
    "objective_id",
    "channel",
    "recipient",
    "recipient_name",
    "contact_id",
    "partner_id",
    "language",
    "subject",
    "body",
    "body_html",
    "kind",
    "trigger",
    "origin_at",
)
_NEW_TYPES = ("uuid", "uuid") + ("text",) * (len(_NEW) - 3) + ("timestamptz",)


async def add(conn: asyncpg.Connection, planned: Sequence[NewDelivery]) -> set[UUID]:
    """Insert the planned deliveries that do not exist yet; returns the ids of those."""
    if not planned:
        return set()
    statement = adding(planned)
    rows = await conn.fetch(statement.sql + " RETURNING delivery_id", *statement.args)
    return {r["delivery_id"] for r in rows}


def adding(planned: Sequence[NewDelivery]) -> Write:
    """`add`'s statement (at least one delivery), for a caller that joins it with its other
    writes (`regia_shared.statements`)."""
    arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate(_NEW_TYPES, start=1))
    # Rule ids are plain identifiers (no commas), so one text per row carries the list.
    return Write(
        f"INSERT INTO deliveries ({', '.join(_NEW)}, rules)"
        f" SELECT {', '.join(_NEW)}, string_to_array(rules, ',')"
        f" FROM unnest({arrays}, ${len(_NEW) + 1}::text[]) AS t({', '.join(_NEW)}, rules)"
        " ON CONFLICT DO NOTHING",
        [*[[getattr(d, column) for d in planned] for column in _NEW], [",".join(d.rules) for d in planned]],
    )


# How many due rows a claim looks at for each one it may take: rows it passes over are
# those of endpoints that this claim fills (see claim_due), and the next claim skips those.
SCAN_FACTOR = 4


async def claim_due(
    conn: asyncpg.Connection, limit: int, lease_s: float, per_endpoint: int
) -> tuple[list[ClaimedDelivery], bool]:
    """Take up to `limit` due deliveries for one more attempt each, leased for `lease_s`,
    and at most `per_endpoint` under way at once to any one webhook endpoint; returns
    them, and whether more may be due now (the claim looked at as many rows as it could).

    An endpoint's deliveries under way are its SENDING rows, whichever replica holds them.
    The deliveries of an endpoint that has its fill are not looked at, so a backlog for a
    slow endpoint never stands in front of the others' (nor takes a sending slot only to
    wait in it). Two replicas claiming at the same instant do not see each other's claim
    before it commits, so each may fill the same endpoint's room once: the bound is exact
    for one replica, and `per_endpoint` times the replicas claiming at once at worst."""
    rows = await conn.fetch(
        "WITH busy AS (SELECT recipient, count(*) AS sending FROM deliveries"
        "              WHERE status = 'SENDING' AND channel = 'webhook' GROUP BY recipient),"
        " due AS (SELECT delivery_id, channel, recipient, next_attempt_at FROM deliveries"
        "         WHERE status = 'PENDING' AND next_attempt_at <= now()"
        "           AND NOT (channel = 'webhook'"
        "                    AND recipient IN (SELECT recipient FROM busy WHERE sending >= $3))"
        "         ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED),"
        # The n-th due call to an endpoint would be its (sending + n)-th under way.
        " ranked AS (SELECT due.delivery_id, due.channel, due.next_attempt_at,"
        "                   coalesce(busy.sending, 0) + row_number() OVER ("
        "                       PARTITION BY due.channel, due.recipient ORDER BY due.next_attempt_at) AS nth"
        "            FROM due LEFT JOIN busy ON due.channel = 'webhook' AND busy.recipient = due.recipient),"
        " picked AS (SELECT delivery_id FROM ranked WHERE channel <> 'webhook' OR nth <= $3"
        "            ORDER BY next_attempt_at LIMIT $1)"
        " UPDATE deliveries d SET status = 'SENDING', attempts = d.attempts + 1,"
        " next_attempt_at = now() + make_interval(secs => $2), updated_at = now()"
        f" FROM picked WHERE d.delivery_id = picked.delivery_id"
        f" RETURNING {_columns('d.')}, (SELECT count(*) FROM due) AS scanned",
        limit,
        lease_s,
        per_endpoint,
        limit * SCAN_FACTOR,
    )
    # A due row is always taken when there is one (the first due call to an endpoint with
    # room fits it), so no row back means nothing was due.
    more = len(rows) == limit or (bool(rows) and rows[0]["scanned"] == limit * SCAN_FACTOR)
    return [ClaimedDelivery(**{k: v for k, v in r.items() if k != "scanned"}) for r in rows], more


async def lock_expired(conn: asyncpg.Connection, limit: int) -> list[ClaimedDelivery]:
    """Deliveries whose claim ran out (their dispatcher died mid-attempt), locked."""
    rows = await conn.fetch(
        f"SELECT {_columns()} FROM deliveries WHERE status = 'SENDING' AND next_attempt_at <= now()"
        " ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED",
        limit,
    )
    return [ClaimedDelivery(**dict(r)) for r in rows]


async def conclude(conn: asyncpg.Connection, steps: Sequence[Step]) -> set[tuple[UUID, int]]:
    """Move claimed deliveries on, with one statement; returns the (delivery, attempt)
    pairs moved. A pair missing from the answer lost its claim (it expired and another
    dispatcher took the delivery over), and its outcome must not be recorded."""
    if not steps:
        return set()
    rows = await conn.fetch(
        "UPDATE deliveries d SET status = s.status, last_error = s.error, updated_at = now(),"
        " next_attempt_at = CASE WHEN s.retry_in_s IS NULL THEN d.next_attempt_at"
        "                   ELSE now() + make_interval(secs => s.retry_in_s) END,"
        " finished_at = CASE WHEN s.status IN ('DELIVERED', 'DEAD') THEN now() END"
        " FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::float8[])"
        "      AS s(delivery_id, attempt, status, error, retry_in_s)"
        " WHERE d.delivery_id = s.delivery_id AND d.attempts = s.attempt AND d.status = 'SENDING'"
        " RETURNING d.delivery_id, d.attempts",
        [s.delivery_id for s in steps],
        [s.attempt for s in steps],
        [s.status.value for s in steps],
        [s.error for s in steps],
        [s.retry_in_s for s in steps],
    )
    return {(r["delivery_id"], r["attempts"]) for r in rows}


async def record_attempts(conn: asyncpg.Connection, steps: Sequence[Step]) -> None:
    if not steps:
        return
    await conn.execute(
        "INSERT INTO delivery_attempts (delivery_id, attempt, at, duration_ms, outcome, error)"
        " SELECT * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::int[], $5::text[], $6::text[])",
        [s.delivery_id for s in steps],
        [s.attempt for s in steps],
        [s.at for s in steps],
        [s.duration_ms for s in steps],
        [s.outcome.value for s in steps],
        [s.error for s in steps],
    )


async def seconds_until_next_due(conn: asyncpg.Connection) -> float | None:
    value = await conn.fetchval(
        "SELECT extract(epoch FROM min(next_attempt_at) - now()) FROM deliveries WHERE status IN ('PENDING', 'SENDING')"
    )
    return None if value is None else float(value)
