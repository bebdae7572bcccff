"""The year-end roll-over (*riporto dei residui*): the oldest fiscal year of the budget
window closes; what each of its lines committed and did not disburse moves to the same
owner's line for the same objective and instrument in the next year; the window moves on
by one year (*carattere scorrevole*). All in one transaction: a crash leaves the year open,
never half-rolled.

A year closes only once it has ended (1 January of the next year, Europe/Rome), whoever
asks: the administrator, or the first plan review that closes it. The rest of line `P`
goes to `P.<next year>` when that id is free or is the owner's own open line for the same
instrument and objective (`rules.extends`); when it is held by anything else (a line
another institution opened ahead, a revoked line, another objective's) the rest goes to
the reserved `rollover:<next year>:P` instead, and the answer lists it under `redirected`.
The roll-over is never refused because of such a line: the administrator could not remove
it (it may be another institution's, and the ledger is append-only), and a year that cannot
close would stop every institution's budget window."""

from dataclasses import dataclass, field
from datetime import date

import asyncpg

from regia_shared.writes import WriteContext, record_write

from ..adapters import lines, references
from ..domain import rules
from ..domain.errors import InvalidChange
from ..domain.line import FundingLine
from .recording import append

next_year_line_id = rules.next_year_line_id
MAX_TARGETS_TRIED = 1000  # far beyond any real clash; past it something is badly wrong


@dataclass(frozen=True)
class Redirected:
    """A line whose rest could not go to its usual next-year id, and where it went."""

    line_id: str
    to_line_id: str
    because: str  # the line that holds the usual id


@dataclass(frozen=True)
class RollOver:
    closed_year: int
    lines_rolled: int
    cents_rolled: int
    window: rules.Window
    redirected: list[Redirected] = field(default_factory=list)


async def roll_over_year(
    pool: asyncpg.Pool, closing_year: int, correlation_id: str, today: date, write: WriteContext
) -> RollOver:
    async with pool.acquire() as conn, conn.transaction():
        return await roll_over(conn, closing_year, correlation_id, today, write)


async def roll_over(
    conn: asyncpg.Connection, closing_year: int, correlation_id: str, today: date, write: WriteContext
) -> RollOver:
    """In the caller's transaction (an admin request, or a plan's annual review closing).
    `today` is the date in Rome (the service's clock, which tests pin). `write` says who
    and why, for the audit row written with the roll-over (channel year-end)."""
    rules.check_year_ended(closing_year, today)
    window = await references.window(conn, for_update=True)
    if closing_year != window.first_year:
        raise InvalidChange(f"only the window's first year, {window.first_year}, can be closed", "closing_year")
    moved = total = 0
    redirected: list[Redirected] = []
    for line in await lines.active_in_year(conn, closing_year):
        if line.undisbursed_cents == 0:
            continue
        target_id, target = await _target(conn, line, closing_year + 1)
        pair = rules.roll_over(line, target, target_id, f"year-end roll-over of {closing_year}")
        if pair is None:
            continue
        usual = rules.next_year_line_id(line.line_id, closing_year + 1)
        if target_id != usual:
            redirected.append(Redirected(line.line_id, target_id, usual))
        await append(
            conn, list(pair), pushed_by="admin", key_id=None, channel="year-end", correlation_id=correlation_id
        )
        moved, total = moved + 1, total + pair[1].committed_delta_cents
    new_window = rules.Window(window.first_year + 1, window.last_year + 1)
    await references.move_window(conn, new_window)
    await record_write(
        conn,
        write,
        subject=f"year:{closing_year}",
        effect={
            "lines_rolled": moved,
            "cents_rolled": total,
            "redirected": len(redirected),
            "window": [new_window.first_year, new_window.last_year],
        },
    )
    return RollOver(closing_year, moved, total, new_window, redirected)


async def _target(conn: asyncpg.Connection, line: FundingLine, year: int) -> tuple[str, FundingLine | None]:
    """The first of the line's possible targets that is free or extends it, locked."""
    for tried, target_id in enumerate(rules.roll_over_targets(line.line_id, year)):
        if tried >= MAX_TARGETS_TRIED:
            break
        target = await lines.get(conn, target_id, for_update=True)
        if target is None or rules.extends(line, target):
            return target_id, target
    raise RuntimeError(f"no free roll-over target for line {line.line_id!r} in {year}")


async def window_opens_with(conn: asyncpg.Connection, year: int) -> bool:
    return (await references.window(conn)).first_year == year
