"""The open-data files as streams of text: rows and elements from the domain's builders,
read from one snapshot, sent in chunks of about 64 KB so a file of any size is sent in
constant memory (and gzip'd by the runtime's middleware when the client accepts it)."""

from collections.abc import AsyncIterator, Iterable
from datetime import date, datetime

import asyncpg

from ..adapters import open_data as reads
from ..domain.open_data import (
    IATI_TAIL,
    Activity,
    Publisher,
    activity_close,
    activity_open,
    iati_head,
    objective_row,
    objectives_csv_head,
    transactions,
)

CHUNK_CHARS = 64 * 1024


async def _chunked(head: str, parts: AsyncIterator[str], tail: Iterable[str] = ()) -> AsyncIterator[str]:
    buffer, size = [head], len(head)
    async for part in parts:
        buffer.append(part)
        size += len(part)
        if size >= CHUNK_CHARS:
            yield "".join(buffer)
            buffer, size = [], 0
    buffer.extend(tail)
    yield "".join(buffer)


async def objectives_csv(pool: asyncpg.Pool, plan_id: str | None, fiscal_year: int | None) -> AsyncIterator[str]:
    async with reads.snapshot(pool) as conn:

        async def rows() -> AsyncIterator[str]:
            async for o in reads.objective_years(conn, plan_id, fiscal_year):
                yield objective_row(o)

        async for chunk in _chunked(objectives_csv_head(), rows()):
            yield chunk


async def iati_activities(
    pool: asyncpg.Pool, publisher: Publisher, today: date, generated_at: datetime, plan_id: str | None
) -> AsyncIterator[str]:
    async with reads.snapshot(pool) as conn:
        current: list[Activity] = []  # the activity being written, whose tail is still due

        async def elements() -> AsyncIterator[str]:
            async for item in reads.activities(conn, plan_id):
                if isinstance(item, Activity):
                    if current:
                        yield activity_close(current.pop(), publisher)
                    current.append(item)
                    yield activity_open(item, publisher, today)
                else:
                    yield transactions(item)
            if current:
                yield activity_close(current.pop(), publisher)

        async for chunk in _chunked(iati_head(generated_at), elements(), [IATI_TAIL]):
            yield chunk
