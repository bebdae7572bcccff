"""Several writes in one round trip: data-modifying statements joined into one.

Guarantees, in the caller's transaction:
- every statement given runs, once and to completion, or the whole statement fails and
  none of them took effect (one statement is atomic on its own);
- they run in the order given: each is a data-modifying CTE that the final SELECT reads in
  that order, so two transactions sending the same statements take their locks in the
  same order (what keeps "lines, then keys" free of deadlocks);
- none sees the rows another of them writes (one snapshot for the whole statement), so
  only independent writes are joined. A foreign key from one to another is checked at the
  statement's end and holds;
- each statement's RETURNING rows come back as tuples, in no promised order.

Why: asyncpg sends one statement at a time and has no pipeline, and every statement is a
send to the backend and a wait for its answer; joining what a use case writes makes its
writes one round trip whatever their number. Funding's group commit went from 8-11
statements to 3 with it and one joined read, which cut funding's CPU by 2-4 % (docs/performance.md, the ninth
session): a statement that follows another within a transaction costs less than a round
trip measured alone. Hand-written because PostgreSQL's own way of doing several writes at
once is this one, and no library of the stack composes it.

A statement's text numbers its parameters from $1; they are renumbered here, so a text
must not hold `$` followed by a digit anywhere but in a parameter (no such literal).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

_PARAMETER = re.compile(r"\$(\d+)")


@dataclass(frozen=True)
class Write:
    """One data-modifying statement and its arguments. `returning` is its RETURNING list,
    or empty when the caller needs only how many rows it wrote."""

    sql: str
    args: Sequence[Any]
    returning: str = ""

    def __post_init__(self) -> None:
        used = {int(n) for n in _PARAMETER.findall(self.sql)}
        if used != set(range(1, len(self.args) + 1)):
            raise ValueError(f"a statement numbers parameters {sorted(used)} for {len(self.args)} arguments")
        if " RETURNING " in f" {self.sql.upper()} ":
            raise ValueError("give a statement's RETURNING list as `returning`, not in its text")


@dataclass(frozen=True)
class Written:
    """What one `Write` did: the rows it returned (each a tuple), or only their number."""

    count: int
    rows: list[tuple[Any, ...]]


def joined(writes: Sequence[Write]) -> tuple[str, list[Any]]:
    """The one statement that runs `writes` in order, and its arguments."""
    if not writes:
        raise ValueError("no statement to join")
    ctes: list[str] = []
    reads: list[str] = []
    args: list[Any] = []
    for n, write in enumerate(writes):
        sql = _renumbered(write.sql, len(args))
        ctes.append(f"w{n} AS ({sql} RETURNING {write.returning or '1'})")
        # A scalar subquery a CTE: read in the select list's order, which runs the CTEs in it.
        reads.append(
            f"(SELECT array_agg(ROW(w{n}.*)) FROM w{n}) AS w{n}"
            if write.returning
            else f"(SELECT count(*) FROM w{n}) AS w{n}"
        )
        args.extend(write.args)
    return f"WITH {', '.join(ctes)} SELECT {', '.join(reads)}", args


def _renumbered(sql: str, offset: int) -> str:
    return _PARAMETER.sub(lambda m: f"${int(m.group(1)) + offset}", sql)


async def write_together(conn: asyncpg.Connection, writes: Sequence[Write]) -> list[Written]:
    """Run `writes` as one statement, in the caller's transaction; what each did, in order."""
    sql, args = joined(writes)
    row = await conn.fetchrow(sql, *args)
    assert row is not None
    done: list[Written] = []
    for write, value in zip(writes, row, strict=True):
        if write.returning:
            rows = [tuple(r) for r in value or ()]
            done.append(Written(len(rows), rows))
        else:
            done.append(Written(int(value), []))
    return done
