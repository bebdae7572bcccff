"""The year-end roll-over (*riporto dei residui*): the oldest fiscal year of the budget
window closes; what each of its lines committed and did not disburse moves to the same
objective and instrument in the next year; the window moves on by one year (*carattere
scorrevole*). All in one transaction: a crash leaves the year open, never half-rolled."""

from dataclasses import dataclass

import asyncpg

from .adapters import lines, references
from .domain import rules
from .domain.errors import InvalidChange
from .execution import append


@dataclass(frozen=True)
class RollOver:
    closed_year: int
    lines_rolled: int
    cents_rolled: int
    window: rules.Window


def next_year_line_id(line_id: str, year: int) -> str:
    suffix = f".{year}"
    return line_id[: 100 - len(suffix)] + suffix


async def roll_over_year(pool: asyncpg.Pool, closing_year: int, correlation_id: str) -> RollOver:
    async with pool.acquire() as conn, conn.transaction():
        return await roll_over(conn, closing_year, correlation_id)


async def roll_over(conn: asyncpg.Connection, closing_year: int, correlation_id: str) -> RollOver:
    """In the caller's transaction (an admin request, or a plan's annual review closing)."""
    window = await references.window(conn, for_update=True)
    if closing_year != window.first_year:
        raise InvalidChange(f"only the window's first year, {window.first_year}, can be closed",
                            "closing_year")
    moved = total = 0
    for line in await lines.active_in_year(conn, closing_year):
        target_id = next_year_line_id(line.line_id, closing_year + 1)
        target = await lines.get(conn, target_id, for_update=True)
        pair = rules.roll_over(line, target, target_id, f"year-end roll-over of {closing_year}")
        if pair is None:
            continue
        await append(conn, list(pair), pushed_by="admin", key_id=None, channel="year-end",
                     correlation_id=correlation_id)
        moved, total = moved + 1, total + pair[1].committed_delta_cents
    new_window = rules.Window(window.first_year + 1, window.last_year + 1)
    await references.move_window(conn, new_window)
    return RollOver(closing_year, moved, total, new_window)


async def window_opens_with(conn: asyncpg.Connection, year: int) -> bool:
    return (await references.window(conn)).first_year == year
