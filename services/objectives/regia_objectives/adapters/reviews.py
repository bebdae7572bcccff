"""asyncpg adapter for closed annual reviews."""

import json
from collections.abc import Sequence

import asyncpg

from ..domain.review import ReviewItem

_ITEM_COLUMNS = (
    "node_id, parent_id, kind, title, position, need_cents, committed_cents, disbursed_cents,"
    " committed_by_level, coverage_bp, status, indicators, history_cents"
)


async def closed(conn: asyncpg.Connection, plan_id: str, fiscal_year: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT plan_id, fiscal_year, closed_at, closed_by FROM reviews WHERE plan_id = $1 AND fiscal_year = $2",
        plan_id,
        fiscal_year,
    )


async def close(
    conn: asyncpg.Connection, plan_id: str, fiscal_year: int, closed_by: str, items: Sequence[ReviewItem]
) -> bool:
    """Freeze the review; False if that year of that plan was already closed."""
    inserted = await conn.fetchval(
        "INSERT INTO reviews (plan_id, fiscal_year, closed_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1",
        plan_id,
        fiscal_year,
        closed_by,
    )
    if not inserted:
        return False
    await conn.executemany(
        f"INSERT INTO review_items (plan_id, fiscal_year, {_ITEM_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14::jsonb, $15)",
        [
            (
                plan_id,
                fiscal_year,
                i.node_id,
                i.parent_id,
                i.kind,
                i.title,
                i.position,
                i.need_cents,
                i.committed_cents,
                i.disbursed_cents,
                json.dumps(i.committed_by_level),
                i.coverage_bp,
                i.status,
                json.dumps(i.indicators, default=str),
                i.history_cents,
            )
            for i in items
        ],
    )
    return True


async def items(conn: asyncpg.Connection, plan_id: str, fiscal_year: int) -> list[ReviewItem]:
    rows = await conn.fetch(
        f"SELECT {_ITEM_COLUMNS} FROM review_items WHERE plan_id = $1 AND fiscal_year = $2 ORDER BY position, node_id",
        plan_id,
        fiscal_year,
    )
    return [
        ReviewItem(
            r["node_id"],
            r["parent_id"],
            r["kind"],
            r["title"],
            r["position"],
            r["need_cents"],
            r["committed_cents"],
            r["disbursed_cents"],
            json.loads(r["committed_by_level"]),
            r["coverage_bp"],
            r["status"],
            json.loads(r["indicators"]),
            r["history_cents"],
        )
        for r in rows
    ]


async def years(conn: asyncpg.Connection, plan_id: str) -> list[dict]:
    rows = await conn.fetch(
        "SELECT fiscal_year, closed_at, closed_by FROM reviews WHERE plan_id = $1 ORDER BY fiscal_year", plan_id
    )
    return [dict(r) for r in rows]
