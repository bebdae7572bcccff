"""asyncpg adapter for milestones."""

import asyncpg

from ..domain.milestones import Milestone

_COLUMNS = "milestone_id, objective_id, title, due_on, description, reached_on"


async def get(conn: asyncpg.Connection, milestone_id: str, *, for_update: bool = False) -> Milestone | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM milestones WHERE milestone_id = $1{lock}", milestone_id)
    return Milestone(**dict(row)) if row else None


async def insert(conn: asyncpg.Connection, m: Milestone) -> None:
    await conn.execute(
        f"INSERT INTO milestones ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)",
        m.milestone_id,
        m.objective_id,
        m.title,
        m.due_on,
        m.description,
        m.reached_on,
    )


async def update(conn: asyncpg.Connection, m: Milestone) -> None:
    await conn.execute(
        "UPDATE milestones SET title = $2, due_on = $3, description = $4, reached_on = $5,"
        " updated_at = now() WHERE milestone_id = $1",
        m.milestone_id,
        m.title,
        m.due_on,
        m.description,
        m.reached_on,
    )


async def of_node(conn: asyncpg.Connection, objective_id: str) -> list[Milestone]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM milestones WHERE objective_id = $1 ORDER BY due_on, milestone_id", objective_id
    )
    return [Milestone(**dict(r)) for r in rows]
