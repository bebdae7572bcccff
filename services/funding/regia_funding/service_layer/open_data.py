"""The IATI open-data file as a stream of text: elements from the domain's builder, read
from one snapshot, sent in chunks of about 64 KB so a file of any size is sent in constant
memory (and gzip'd by the runtime's middleware when the client accepts it)."""

from collections.abc import AsyncIterator
from datetime import date, datetime

import asyncpg

from ..adapters import open_data as reads
from ..domain.exports.iati_xml import (
    IATI_TAIL,
    Activity,
    Publisher,
    activity_close,
    activity_open,
    iati_head,
    transactions,
)

CHUNK_CHARS = 64 * 1024


async def iati_activities(
    pool: asyncpg.Pool, publisher: Publisher, today: date, generated_at: datetime, plan_id: str | None
) -> AsyncIterator[str]:
    async with reads.snapshot(pool) as conn:
        buffer, size = [iati_head(generated_at)], 0
        writing: Activity | None = None  # the activity whose tail is still due
        async for item in reads.activities(conn, plan_id):
            if isinstance(item, Activity):
                if writing is not None:
                    buffer.append(activity_close(writing, publisher))
                writing = item
                part = activity_open(item, publisher, today)
            else:
                part = transactions(item)
            buffer.append(part)
            size += len(part)
            if size >= CHUNK_CHARS:
                yield "".join(buffer)
                buffer, size = [], 0
        if writing is not None:
            buffer.append(activity_close(writing, publisher))
        buffer.append(IATI_TAIL)
        yield "".join(buffer)
