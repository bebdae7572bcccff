"""asyncpg adapter for alerts nobody could be told about: kept, so that they are not lost
silently and an administrator (or the console) can see what waits for an audience."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
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


async def page(conn: asyncpg.Connection, *, after: Sequence[Any] | None, limit: int) -> list[dict]:
    """One page of them, newest first, from just after the key `after` (a row's
    `occurred_at` and `cause_event_id`) when given."""
    occurred_at, cause = (after[0], after[1]) if after else (None, None)
    rows = await conn.fetch(
        "SELECT cause_event_id, trigger, objective_id, fiscal_year, rules, partners, reason, occurred_at,"
        " recorded_at FROM unaddressed_alerts"
        " WHERE ($2::timestamptz IS NULL OR (occurred_at, cause_event_id) < ($2::timestamptz, $3::uuid))"
        " ORDER BY occurred_at DESC, cause_event_id DESC LIMIT $1",
        limit,
        occurred_at,
        cause,
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
