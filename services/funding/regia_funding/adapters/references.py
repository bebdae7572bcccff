"""asyncpg adapter for what funding checks commands against: instruments, the objectives
the objectives service announced, and the budget window."""

import json
from collections.abc import Sequence

import asyncpg

from ..domain.rules import Window


async def add_instrument(
    conn: asyncpg.Connection, instrument_id: str, institution_id: str, name: str, kind: str
) -> bool:
    status = await conn.execute(
        "INSERT INTO instruments (instrument_id, institution_id, name, kind) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING",
        instrument_id,
        institution_id,
        name,
        kind,
    )
    return status.endswith(" 1")


async def instrument_row(conn: asyncpg.Connection, instrument_id: str) -> dict | None:
    row = await conn.fetchrow(
        "SELECT instrument_id, institution_id, name, kind FROM instruments WHERE instrument_id = $1", instrument_id
    )
    return dict(row) if row else None


async def instruments(conn: asyncpg.Connection, institution_id: str | None) -> list[dict]:
    rows = await conn.fetch(
        "SELECT instrument_id, institution_id, name, kind FROM instruments"
        " WHERE $1::text IS NULL OR institution_id = $1 ORDER BY instrument_id",
        institution_id,
    )
    return [dict(r) for r in rows]


async def objective(conn: asyncpg.Connection, objective_id: str) -> dict | None:
    row = await conn.fetchrow(
        "SELECT objective_id, title, updated_at FROM known_objectives WHERE objective_id = $1", objective_id
    )
    return dict(row) if row else None


async def remember_objective(
    conn: asyncpg.Connection,
    objective_id: str,
    title: str,
    *,
    plan_id: str | None = None,
    parent_id: str | None = None,
    kind: str = "OBJECTIVE",
    needs: Sequence[tuple[int, int]] = (),
) -> None:
    """What the objectives service announced of an objective; the open data's IATI file
    reads plan, parent, kind and needs (the activity's tree place and budget)."""
    await conn.execute(
        "INSERT INTO known_objectives (objective_id, title, plan_id, parent_id, kind, needs)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (objective_id)"
        " DO UPDATE SET title = EXCLUDED.title, plan_id = EXCLUDED.plan_id, parent_id = EXCLUDED.parent_id,"
        " kind = EXCLUDED.kind, needs = EXCLUDED.needs, updated_at = now()",
        objective_id,
        title,
        plan_id,
        parent_id,
        kind,
        json.dumps([[year, cents] for year, cents in needs]),
    )


async def window(conn: asyncpg.Connection, *, for_update: bool = False, for_share: bool = False) -> Window:
    """FOR UPDATE: the roll-over moving it; FOR SHARE: a change that must not cross one."""
    lock = " FOR UPDATE" if for_update else " FOR SHARE" if for_share else ""
    row = await conn.fetchrow("SELECT first_year, last_year FROM budget_window" + lock)
    if row is None:
        raise RuntimeError("the budget window is not initialised")
    return Window(row["first_year"], row["last_year"])


async def init_window(conn: asyncpg.Connection, first_year: int, last_year: int) -> None:
    """Set the window the first time the service starts; later it only rolls."""
    await conn.execute(
        "INSERT INTO budget_window (first_year, last_year) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        first_year,
        last_year,
    )


async def move_window(conn: asyncpg.Connection, new: Window) -> None:
    await conn.execute(
        "UPDATE budget_window SET first_year = $1, last_year = $2, updated_at = now()", new.first_year, new.last_year
    )
