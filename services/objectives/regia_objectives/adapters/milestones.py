"""asyncpg adapter for milestones, and the sweep's view of those gone overdue."""

from datetime import date

import asyncpg

from ..domain.milestones import Milestone

_COLUMNS = "milestone_id, objective_id, title, due_on, description, reached_on"


async def get(conn: asyncpg.Connection, milestone_id: str, *, for_update: bool = False) -> Milestone | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM milestones WHERE milestone_id = $1{lock}", milestone_id)
    return Milestone(**dict(row)) if row else None


async def insert(conn: asyncpg.Connection, m: Milestone, overdue_announced_for: date | None = None) -> None:
    await conn.execute(
        f"INSERT INTO milestones ({_COLUMNS}, overdue_announced_for) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        m.milestone_id,
        m.objective_id,
        m.title,
        m.due_on,
        m.description,
        m.reached_on,
        overdue_announced_for,
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


async def claim_overdue_news(conn: asyncpg.Connection, today: date, limit: int) -> list[tuple[Milestone, date | None]]:
    """Up to `limit` milestones whose going overdue is news today (domain.milestones.
    overdue_news, in SQL), each with the due date last announced, locked for the caller's
    transaction. SKIP LOCKED: a replica sweeping at the same time takes other rows, and a
    milestone being edited is left for the next round; once a sweep commits, the row no
    longer matches (PostgreSQL re-checks a locked row's condition on its newest version),
    so no two sweeps announce the same due date."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, overdue_announced_for FROM milestones"
        " WHERE due_on < $1 AND (reached_on IS NULL OR reached_on > $1)"
        " AND (overdue_announced_for IS NULL OR due_on > overdue_announced_for)"
        " ORDER BY due_on, milestone_id LIMIT $2 FOR UPDATE SKIP LOCKED",
        today,
        limit,
    )
    return [(Milestone(*(r[c] for c in _COLUMNS.split(", "))), r["overdue_announced_for"]) for r in rows]


async def mark_announced(conn: asyncpg.Connection, milestone_ids: list[str]) -> None:
    """Record each one's due date as announced, in the sweep's transaction."""
    await conn.execute(
        "UPDATE milestones SET overdue_announced_for = due_on WHERE milestone_id = ANY($1::text[])", milestone_ids
    )
