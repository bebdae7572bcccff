"""Who and why, written with the write: the audit row of a change in the change's own transaction.

Every way in that changes money, plans, roles or rules builds a `WriteContext` (an HTTP
route from the verified credential and the `X-Regia-Reason` header, funding's Kafka way in
from the message's verified key and its reason, the bulk import, the year-end roll-over) and
hands it to the use case, which writes one `audit_log` row with `record_write` inside the
transaction that makes the change. So the row commits with the change or not at all: a write
that rolls back leaves no row saying it succeeded, and a process killed after the commit
cannot lose the row (the request-level row of the HTTP middleware is written after the
answer, best-effort; see regia_shared.http.audit). The row names the actor (`admin`,
`key:<key_id>`, `person:<account_id>` with their name), the channel (`http`, `kafka`,
`import`, `year-end`), the reason, and what the write changed (`subject`, e.g.
`line:<id>`, and `effect`: ledger entry and event ids, or counts for a bulk write).

`audit_log` refuses UPDATE and DELETE (each service's migration adds the trigger), like
funding's ledger: the only change it takes is the anonymous-flood tally's count.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import asyncpg
from pydantic_core import to_json

from regia_shared.statements import Write

CHANNELS = frozenset({"http", "kafka", "import", "year-end"})
REASON_MIN, REASON_MAX = 3, 500


class ReasonInvalid(ValueError):
    """A reason that is missing, blank, too short or too long; the message says which."""


def checked_reason(value: str | None) -> str:
    """`value` stripped, or ReasonInvalid: a reason is 3-500 characters once trimmed."""
    reason = (value or "").strip()
    if not reason:
        raise ReasonInvalid("a reason is required for this write")
    if len(reason) < REASON_MIN:
        raise ReasonInvalid(f"a reason has at least {REASON_MIN} characters")
    if len(reason) > REASON_MAX:
        raise ReasonInvalid(f"a reason has at most {REASON_MAX} characters")
    if "\x00" in reason:
        raise ReasonInvalid("a reason cannot hold a NUL character")
    return reason


@dataclass
class WriteContext:
    """Who makes a write, through which channel and why; where it came in (route, path and
    request id for HTTP, topic and offset for Kafka). `recorded` turns true once its row is
    inserted, so the HTTP middleware writes no second row for a request that succeeded."""

    service: str
    actor: str
    channel: str
    reason: str | None
    method: str
    route: str
    path: str
    request_id: str
    status: int = 200
    actor_name: str | None = None
    correlation_id: str | None = None
    client_address: str | None = None
    recorded: bool = False

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")


_INSERT = (
    "INSERT INTO audit_log (service, method, route, path, status, actor, actor_name, client_address,"
    " request_id, correlation_id, channel, reason, subject, effect)"
    " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[],"
    " $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::jsonb[])"
)


async def record_write(
    conn: asyncpg.Connection, write: WriteContext, *, subject: str | None, effect: dict[str, Any]
) -> None:
    """One write's audit row, in the caller's transaction."""
    await record_writes(conn, [(write, subject, effect)])


async def record_writes(
    conn: asyncpg.Connection, writes: Sequence[tuple[WriteContext, str | None, dict[str, Any]]]
) -> None:
    """Several writes' rows with one statement (a group commit's requests, a Kafka batch's
    messages), in the caller's transaction."""
    if not writes:
        return
    statement = audit_rows(writes)
    await conn.execute(statement.sql, *statement.args)
    mark_recorded(writes)


def audit_rows(writes: Sequence[tuple[WriteContext, str | None, dict[str, Any]]]) -> Write:
    """The statement writing these writes' audit rows, for a caller that joins it with its
    other writes (`regia_shared.statements`); once it has run, `mark_recorded`."""
    rows = [
        (
            w.service,
            w.method[:10],
            w.route[:200],
            w.path[:500],
            w.status,
            w.actor[:200],
            (w.actor_name or "")[:200] or None,
            (w.client_address or "")[:100] or None,
            w.request_id[:200],
            (w.correlation_id or "")[:200] or None,
            w.channel,
            w.reason,
            (subject or "")[:300] or None,
            to_json(effect).decode(),  # pydantic's Rust encoder: a fifth of json.dumps's time
        )
        for w, subject, effect in writes
    ]
    return Write(_INSERT, [list(c) for c in zip(*rows, strict=True)])


def mark_recorded(writes: Sequence[tuple[WriteContext, str | None, dict[str, Any]]]) -> None:
    """Their rows are in the transaction: the HTTP middleware writes no second row for them."""
    for w, _, _ in writes:
        w.recorded = True


REASON_HEADER = "X-Regia-Reason"


def reason_header(reason: str) -> dict[str, str]:
    """The header a client sends a reason in: percent-encoded UTF-8, which any HTTP client
    (and a browser, which refuses header values outside Latin-1) can send."""
    return {REASON_HEADER: quote(checked_reason(reason), safe="")}


def joined_reasons(reasons: Sequence[str | None]) -> str | None:
    """The reason of a request whose commands carry their own (a funding batch without a
    request-level reason): the distinct ones, in order, cut to the audit's 500 characters."""
    distinct = list(dict.fromkeys(r.strip() for r in reasons if r and r.strip()))
    if not distinct:
        return None
    text = " | ".join(distinct)
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"
