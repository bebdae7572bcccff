"""asyncpg adapter for dead letters: the deliveries nobody will try again, and an
administrator's retry of them.

A retry is one UPDATE guarded by `status = 'DEAD'`: whichever replica or administrator
gets there first moves a row, a concurrent one then finds it PENDING and reports it as not
dead, so a delivery is never put back twice. The dispatchers are woken in the same
transaction, as the insert trigger wakes them for a new delivery (it does not fire on
updates); the notification is sent at commit, when the rows are visible.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

_DEAD = (
    "delivery_id, cause_event_id, correlation_id, objective_id, kind, trigger, rules, channel,"
    " recipient, recipient_name, contact_id, partner_id, subject, attempts, retry_from,"
    " last_error, created_at, finished_at"
)

# One filter for listing and for retrying everything: what is listed is what would be retried.
_FILTER = (
    "status = 'DEAD' AND ($1::text IS NULL OR channel = $1)"
    " AND ($2::text IS NULL OR objective_id = $2) AND ($3::text IS NULL OR contact_id = $3)"
)

# The `_deliveries` channel of this schema, as the deliveries_notify trigger names it and
# the dispatcher listens to it (the pool's search_path is the service's schema).
_WAKE_DISPATCHERS = "SELECT pg_notify(current_schema() || '_deliveries', '')"

# Put back: due now, budget counted from here (retry_from), no longer finished. The last
# error stays until the next attempt replaces it: it is why the delivery died.
_REVIVE = (
    "UPDATE deliveries SET status = 'PENDING', next_attempt_at = now(), retry_from = attempts,"
    " finished_at = NULL, updated_at = now()"
)


@dataclass(frozen=True)
class Filters:
    channel: str | None = None
    objective_id: str | None = None
    contact_id: str | None = None

    def args(self) -> tuple[str | None, str | None, str | None]:
        return self.channel, self.objective_id, self.contact_id


@dataclass(frozen=True)
class Retried:
    retried: list[UUID] = field(default_factory=list)
    not_dead: list[UUID] = field(default_factory=list)  # exist, but are not DEAD
    unknown: list[UUID] = field(default_factory=list)


async def listing(
    conn: asyncpg.Connection, filters: Filters, limit: int, after: Sequence[Any] | None = None
) -> list[dict]:
    """Dead deliveries, the most recently given up first, from just after the key `after`
    (a row's `finished_at` and `delivery_id`) when given. A dead delivery always has its
    finished_at (deliveries.py sets it with the status)."""
    finished_at, delivery_id = (after[0], after[1]) if after else (None, None)
    rows = await conn.fetch(
        f"SELECT {_DEAD} FROM deliveries WHERE {_FILTER}"
        " AND ($5::timestamptz IS NULL OR (finished_at, delivery_id) < ($5::timestamptz, $6::uuid))"
        " ORDER BY finished_at DESC, delivery_id DESC LIMIT $4",
        *filters.args(),
        limit,
        finished_at,
        delivery_id,
    )
    return [dict(r) for r in rows]


async def retry_ids(conn: asyncpg.Connection, delivery_ids: list[UUID]) -> Retried:
    """Put these deliveries back if they are dead; say what became of each id asked for."""
    asked = list(dict.fromkeys(delivery_ids))  # each once, in the order given
    async with conn.transaction():
        revived = {
            r["delivery_id"]
            for r in await conn.fetch(
                f"{_REVIVE} WHERE delivery_id = ANY($1::uuid[]) AND status = 'DEAD' RETURNING delivery_id", asked
            )
        }
        known = {
            r["delivery_id"]
            for r in await conn.fetch("SELECT delivery_id FROM deliveries WHERE delivery_id = ANY($1::uuid[])", asked)
        }
        if revived:
            await conn.execute(_WAKE_DISPATCHERS)
    return Retried(
        retried=[i for i in asked if i in revived],
        not_dead=[i for i in asked if i in known and i not in revived],
        unknown=[i for i in asked if i not in known],
    )


async def retry_all(conn: asyncpg.Connection, filters: Filters) -> Retried:
    """Put back every dead delivery that matches the filters."""
    async with conn.transaction():
        rows = await conn.fetch(f"{_REVIVE} WHERE {_FILTER} RETURNING delivery_id", *filters.args())
        if rows:
            await conn.execute(_WAKE_DISPATCHERS)
    return Retried(retried=sorted(r["delivery_id"] for r in rows))
