"""The objectives open-data file as a stream of text: rows from the domain's builders,
read from one snapshot, sent in chunks of about 64 KB so a file of any size is sent in
constant memory (and gzip'd by the runtime's middleware when the client accepts it)."""

from collections.abc import AsyncIterator, Iterable

import asyncpg

from ..adapters import open_data as reads
from ..domain.open_data import objective_row, objectives_csv_head

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
