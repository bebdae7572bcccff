"""asyncpg adapter for the briefings owed to new leads (migration 0017).

A new lead is told its objective's unfunded years from the statuses the notifier holds.
An assignment that reaches the notifier before any status of its objective (the two come
through two consumers, with no order between them) is `owe`d instead, and `take`n, to be
told, by the batch that records the objective's first status.

Both sides first `pass_gate`: they upsert the objective's row, which holds it until their
transaction ends. Without that, an assignment that finds no status and a first status that
finds nothing owed could each run before the other commits, and the briefing would be lost
for good; with it, the second waits for the first to commit and, reading after the wait,
sees what it wrote. Gates are always taken in objective order, one statement a batch, so
two batches never take them crosswise."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class Owed:
    """A lead owed its objective's current state, and the assignment that made it lead."""

    objective_id: str
    partner_id: str
    event_id: UUID
    event_type: str
    correlation_id: str
    occurred_at: datetime


async def pass_gate(conn: asyncpg.Connection, objective_ids: Iterable[str]) -> None:
    """Hold each objective's gate row until this transaction ends (made if missing; what
    it owes unchanged); waits for a concurrent holder to commit or roll back."""
    ids = sorted(set(objective_ids))
    if ids:
        await conn.execute(
            "INSERT INTO owed_briefings (objective_id) SELECT unnest($1::text[]) ORDER BY 1"
            " ON CONFLICT (objective_id) DO UPDATE SET objective_id = EXCLUDED.objective_id",
            ids,
        )


async def owe(conn: asyncpg.Connection, owed: Iterable[Owed]) -> None:
    """Record these briefings as owed, behind gates this transaction holds; one owed to an
    earlier lead of the same objective gives way to the newer lead's."""
    rows = sorted({o.objective_id: o for o in owed}.values(), key=lambda o: o.objective_id)
    if rows:
        await conn.execute(
            "UPDATE owed_briefings b SET partner_id = o.partner_id, event_id = o.event_id,"
            " event_type = o.event_type, correlation_id = o.correlation_id, occurred_at = o.occurred_at"
            " FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[])"
            " AS o(objective_id, partner_id, event_id, event_type, correlation_id, occurred_at)"
            " WHERE b.objective_id = o.objective_id",
            [o.objective_id for o in rows],
            [o.partner_id for o in rows],
            [o.event_id for o in rows],
            [o.event_type for o in rows],
            [o.correlation_id for o in rows],
            [o.occurred_at for o in rows],
        )


async def take(conn: asyncpg.Connection, objective_ids: Iterable[str]) -> list[Owed]:
    """Remove these objectives' rows, behind gates this transaction holds, and return the
    briefings they owed."""
    ids = sorted(set(objective_ids))
    if not ids:
        return []
    rows = await conn.fetch(
        "DELETE FROM owed_briefings WHERE objective_id = ANY($1::text[])"
        " RETURNING objective_id, partner_id, event_id, event_type, correlation_id, occurred_at",
        ids,
    )
    return sorted(
        (
            Owed(
                r["objective_id"],
                r["partner_id"],
                r["event_id"],
                r["event_type"],
                r["correlation_id"],
                r["occurred_at"],
            )
            for r in rows
            if r["partner_id"] is not None
        ),
        key=lambda o: o.objective_id,
    )
