"""Closing a plan's year (*punto della situazione*): freeze every node's figures, publish
the review, and let the budget window move on. One transaction; a year closes once, and
only once it has ended (1 January of the next year, Europe/Rome): the review freezes the
year's figures, and the first review of a year closes that year's budget for every
institution in the funding service, so a review in December would shut a year still under
way for everyone."""

from datetime import date

import asyncpg

from regia_shared.contracts import fiscal, topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.plans import AnnualReviewClosed
from regia_shared.messaging import outbox
from regia_shared.writes import WriteContext, record_write

from ..adapters import coverage, reviews
from ..domain.errors import ReviewAlreadyClosed, ReviewNotFound, YearNotEnded, YearOutsidePlan
from ..domain.review import ReviewItem, snapshot, summary
from .indicators import progress_for_review
from .plans import read_plan
from .projection import PRODUCER, Cause


async def close_review(
    pool: asyncpg.Pool,
    plan_id: str,
    fiscal_year: int,
    closed_by: str,
    cause: Cause,
    today: date,
    write: WriteContext | None = None,
) -> list[ReviewItem]:
    """`today` is the date in Rome (the service's clock, which tests pin). `write`: the
    request's audit facts, written as a row in the review's own transaction."""
    plan, nodes, _ = await read_plan(pool, plan_id)
    if not plan.first_year <= fiscal_year <= plan.last_year:
        raise YearOutsidePlan(
            f"{fiscal_year} is outside the plan's years {plan.first_year}..{plan.last_year}", "fiscal_year"
        )
    if not fiscal.has_ended(fiscal_year, today):
        raise YearNotEnded(
            f"{fiscal_year} has not ended: its review can be closed from 1 January "
            f"{fiscal_year + 1} (Europe/Rome); today is {today.isoformat()}",
            "fiscal_year",
        )
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        # Repeatable read: the snapshot sees one consistent state of every node's figures.
        if await reviews.closed(conn, plan_id, fiscal_year) is not None:
            raise ReviewAlreadyClosed(f"the {fiscal_year} review of {plan_id!r} is already closed", "fiscal_year")
        held = {
            node: [c for c in rows if c.fiscal_year == fiscal_year]
            for node, rows in (await coverage.of_plan(conn, plan_id)).items()
        }
        items = snapshot(
            plan,
            fiscal_year,
            nodes,
            {n: rows[0] for n, rows in held.items() if rows},
            await progress_for_review(conn, [n.node_id for n in nodes], fiscal_year),
        )
        if not await reviews.close(conn, plan_id, fiscal_year, closed_by, items):
            raise ReviewAlreadyClosed(f"the {fiscal_year} review of {plan_id!r} is already closed", "fiscal_year")
        totals = summary(items)
        if write is not None:
            await record_write(
                conn, write, subject=f"review:{plan_id}:{fiscal_year}", effect={"nodes": len(items), **totals}
            )
        await outbox.append(
            conn,
            topics.OBJECTIVES,
            [
                Envelope.wrap(
                    AnnualReviewClosed(plan_id=plan_id, fiscal_year=fiscal_year, **totals),
                    key=plan_id,
                    producer=PRODUCER,
                    correlation_id=cause.correlation_id,
                )
            ],
        )
        return items


async def review_items(pool: asyncpg.Pool, plan_id: str, fiscal_year: int) -> list[ReviewItem]:
    return (await closed_review(pool, plan_id, fiscal_year))[1]


async def closed_review(pool: asyncpg.Pool, plan_id: str, fiscal_year: int) -> tuple[str, list[ReviewItem]]:
    """When the review was closed (ISO time) and its frozen items."""
    async with pool.acquire() as conn:
        closed = await reviews.closed(conn, plan_id, fiscal_year)
        if closed is None:
            raise ReviewNotFound(f"no closed {fiscal_year} review of {plan_id!r}", "fiscal_year")
        return closed["closed_at"].isoformat(timespec="minutes"), await reviews.items(conn, plan_id, fiscal_year)
