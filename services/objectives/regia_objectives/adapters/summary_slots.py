"""asyncpg adapter for the slots the summary's figures are kept in (objectives migrations
0014-0016): folding them back into one row per key."""

import asyncpg


async def fold(conn: asyncpg.Connection) -> int:
    """Add every slot of the summary's tables into slot 0, in one transaction; the rows
    folded. What any reader sums is the same before and after."""
    async with conn.transaction():
        return int(await conn.fetchval("SELECT summary_slots_fold()"))
