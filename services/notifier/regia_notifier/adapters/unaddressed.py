"""asyncpg adapter for alerts nobody could be told about: kept, so that they are not lost
silently and an administrator (or the console) can see what waits for an audience."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class Unaddressed:
    cause_event_id: UUID
    trigger: str
    objective_id: str | None
    fiscal_year: int | None
    rules: tuple[str, ...]
    partners: tuple[str, ...]
    reason: str
    occurred_at: datetime


async def add(conn: asyncpg.Connection, alerts: Sequence[Unaddressed]) -> None:
    if not alerts:
        return
    await conn.executemany(
        "INSERT INTO unaddressed_alerts (cause_event_id, trigger, objective_id, fiscal_year, rules,"
        " partners, reason, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (cause_event_id) DO NOTHING",
        [
            (
                a.cause_event_id,
                a.trigger,
                a.objective_id,
                a.fiscal_year,
                list(a.rules),
                list(a.partners),
                a.reason,
                a.occurred_at,
            )
            for a in alerts
        ],
    )


async def page(conn: asyncpg.Connection, *, limit: int, offset: int) -> list[dict]:
    """One page of them, newest first."""
    rows = await conn.fetch(
        "SELECT cause_event_id, trigger, objective_id, fiscal_year, rules, partners, reason, occurred_at,"
        " recorded_at FROM unaddressed_alerts ORDER BY occurred_at DESC, cause_event_id LIMIT $1 OFFSET $2",
        limit,
        offset,
    )
    return [
        {
            **dict(r),
            "cause_event_id": str(r["cause_event_id"]),
            "rules": list(r["rules"]),
            "partners": list(r["partners"]),
        }
        for r in rows
    ]
