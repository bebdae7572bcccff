"""asyncpg adapter for alerts nobody could be told about: kept, so that they are not lost
silently and an administrator (or the console) can see what waits for an audience."""

import json
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
    """Keep them, with one statement for the batch (the lists of rules and partners go as
    JSON arrays, since an array of arrays cannot be unnested row by row); a cause kept
    already stays as it is."""
    if not alerts:
        return
    await conn.execute(
        "INSERT INTO unaddressed_alerts (cause_event_id, trigger, objective_id, fiscal_year, rules,"
        " partners, reason, occurred_at)"
        " SELECT a.cause_event_id, a.trigger, a.objective_id, a.fiscal_year,"
        " ARRAY(SELECT jsonb_array_elements_text(a.rules)), ARRAY(SELECT jsonb_array_elements_text(a.partners)),"
        " a.reason, a.occurred_at"
        " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::jsonb[], $6::jsonb[], $7::text[],"
        " $8::timestamptz[]) AS a(cause_event_id, trigger, objective_id, fiscal_year, rules, partners, reason,"
        " occurred_at)"
        " ON CONFLICT (cause_event_id) DO NOTHING",
        [a.cause_event_id for a in alerts],
        [a.trigger for a in alerts],
        [a.objective_id for a in alerts],
        [a.fiscal_year for a in alerts],
        [json.dumps(list(a.rules)) for a in alerts],
        [json.dumps(list(a.partners)) for a in alerts],
        [a.reason for a in alerts],
        [a.occurred_at for a in alerts],
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
