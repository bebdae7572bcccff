"""asyncpg queries behind the objectives' read endpoints (issue 18): the document's
figures by institution, the history of changes, the filtered list, and the history read
back as of a date. Every query is keyset-paged or bounded by one objective's subtree, and
each names the index it relies on (migration 0007)."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg

from ..domain.coverage import YearCoverage
from .coverage import year_coverage

_CHANGE_COLUMNS = (
    "h.id AS change_id, h.occurred_at, h.line_id, h.institution_id, h.level, h.fiscal_year AS change_year,"
    " h.kind, h.delta_cents, h.committed_before_cents, h.committed_after_cents, h.disbursed_after_cents,"
    " h.reason, h.correlation_id, h.line_version"
)


@dataclass(frozen=True)
class HeldYear:
    """A coverage row as stored, with what the reads add to the figures."""

    coverage: YearCoverage
    status_since: datetime | None
    last_change: dict | None


def change_of(r: asyncpg.Record) -> dict | None:
    """The history row joined to `r` (by _CHANGE_COLUMNS) as the API shows it, or None."""
    if r["change_id"] is None:
        return None
    return {
        "at": r["occurred_at"],
        "line_id": r["line_id"],
        "institution_id": r["institution_id"],
        "level": r["level"],
        "fiscal_year": r["change_year"],
        "kind": r["kind"],
        "delta_cents": r["delta_cents"],
        "committed_before_cents": r["committed_before_cents"],
        "committed_after_cents": r["committed_after_cents"],
        "disbursed_after_cents": r["disbursed_after_cents"],
        "reason": r["reason"],
        "correlation_id": r["correlation_id"],
        "line_version": r["line_version"],
    }


def _held(r: asyncpg.Record) -> HeldYear:
    return HeldYear(
        year_coverage(r),
        r["status_since"],
        change_of(r),
    )


async def held_years(
    conn: asyncpg.Connection, objective_ids: Sequence[str], fiscal_year: int | None = None
) -> dict[str, list[HeldYear]]:
    """The coverage rows of these objectives (one year, or all), each with its last change."""
    rows = await conn.fetch(
        f"SELECT c.*, {_CHANGE_COLUMNS} FROM coverage c LEFT JOIN allocation_changes h ON h.id = c.last_change_id"
        " WHERE c.objective_id = ANY($1::text[]) AND ($2::int IS NULL OR c.fiscal_year = $2)"
        " ORDER BY c.objective_id, c.fiscal_year",
        list(objective_ids),
        fiscal_year,
    )
    found: dict[str, list[HeldYear]] = {}
    for r in rows:
        found.setdefault(r["objective_id"], []).append(_held(r))
    return found


async def subtree(conn: asyncpg.Connection, objective_id: str) -> list[str]:
    """The node and every descendant (objectives_parent index)."""
    rows = await conn.fetch(
        "WITH RECURSIVE down(objective_id) AS (SELECT $1::text"
        " UNION SELECT o.objective_id FROM objectives o JOIN down ON o.parent_id = down.objective_id)"
        " SELECT objective_id FROM down",
        objective_id,
    )
    return [r["objective_id"] for r in rows]


async def by_institution(conn: asyncpg.Connection, objective_ids: Sequence[str]) -> list[dict]:
    """Money per (year, institution, level) over the given nodes' lines, with the number
    of lines, from institution_totals (kept by the consumer): a few rows however many lines."""
    rows = await conn.fetch(
        "SELECT fiscal_year, institution_id, level, committed_cents, disbursed_cents, line_count"
        " FROM institution_totals WHERE objective_id = ANY($1::text[]) AND line_count > 0",
        list(objective_ids),
    )
    return [dict(r) for r in rows]


async def line_counts(conn: asyncpg.Connection, objective_ids: Sequence[str]) -> dict[tuple[str, int], int]:
    """Lines per (objective, year) for a page of the list."""
    rows = await conn.fetch(
        "SELECT objective_id, fiscal_year, sum(line_count)::bigint AS n FROM institution_totals"
        " WHERE objective_id = ANY($1::text[]) GROUP BY objective_id, fiscal_year",
        list(objective_ids),
    )
    return {(r["objective_id"], r["fiscal_year"]): r["n"] for r in rows}


async def changes(
    conn: asyncpg.Connection,
    objective_ids: Sequence[str],
    fiscal_year: int | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[dict]:
    """History rows of these objectives, newest first, keyset on (occurred_at, id). Each
    node's newest `limit` rows are read off its index (allocation_changes_objective /
    _objective_at) and merged: `objective_id = ANY(...)` alone made PostgreSQL sort all of
    an 88,678-line objective's history for one page (175 ms)."""
    rows = await conn.fetch(
        f"SELECT {_CHANGE_COLUMNS} FROM unnest($1::text[]) AS n(objective_id), LATERAL ("
        " SELECT * FROM allocation_changes x WHERE x.objective_id = n.objective_id"
        " AND ($2::int IS NULL OR x.fiscal_year = $2)"
        " AND ($3::timestamptz IS NULL OR (x.occurred_at, x.id) < ($3, $4))"
        " ORDER BY x.occurred_at DESC, x.id DESC LIMIT $5) h"
        " ORDER BY h.occurred_at DESC, h.id DESC LIMIT $5",
        list(objective_ids),
        fiscal_year,
        after[0] if after else None,
        after[1] if after else 0,
        limit,
    )
    return [{**(change_of(r) or {}), "change_id": r["change_id"]} for r in rows]


@dataclass(frozen=True)
class ListFilters:
    status: str | None = None
    plan_id: str | None = None
    fiscal_year: int | None = None
    lead: str | None = None
    q: str | None = None
    # The ids `q` matches, when searched() found few enough to list them (None: not looked
    # up, or too many: the list tests each objective's words instead).
    matching: tuple[str, ...] | None = None


# `q` is matched through the GIN index on objectives.search (migration 0008): every word
# of it begins a word of the id or the title. Up to SEARCH_IDS matches are read off the
# index first and the list keeps those ids; more matches than that make the words common
# enough (1 objective in 40 at 200,000) that walking the list's own order and testing each
# objective finds a page quickly. Left to itself the planner walked the whole id index for
# a word that matches nothing (110 ms), its guess for a rare prefix being 2 % of the rows.
SEARCH_IDS = 5_000


async def searched(conn: asyncpg.Connection, f: ListFilters) -> ListFilters:
    """The filters with `q` resolved: the matching ids when they are few, else unchanged."""
    if not f.q or f.matching is not None:
        return f
    if not any(ch.isalnum() for ch in f.q):
        return replace(f, matching=())  # no word to look for: nothing matches
    found = await conn.fetchval(
        "SELECT array_agg(objective_id) FROM (SELECT objective_id FROM objectives"
        " WHERE search @@ objectives_search_query($1) LIMIT $2) m",
        f.q,
        SEARCH_IDS + 1,
    )
    if found is not None and len(found) > SEARCH_IDS:
        return f
    return replace(f, matching=tuple(found or ()))


def _where(f: ListFilters, args: list[Any]) -> list[str]:
    """The conditions on `o` (objectives) for the list's filters, parameters appended to args."""

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where = []
    if f.plan_id is not None:
        where.append(f"o.plan_id = {arg(f.plan_id)}")
    if f.lead is not None:
        where.append(
            f"EXISTS (SELECT 1 FROM node_leads l WHERE l.objective_id = o.objective_id AND l.partner_id = {arg(f.lead)})"
        )
    if f.matching is not None:
        where.append(f"o.objective_id = ANY({arg(list(f.matching))}::text[])")
    elif f.q:
        where.append(f"o.search @@ objectives_search_query({arg(f.q)})")
    return where


def _coverage_where(f: ListFilters, args: list[Any], alias: str = "c") -> list[str]:
    where = []
    if f.status is not None:
        args.append(f.status)
        where.append(f"{alias}.status = ${len(args)}")
    if f.fiscal_year is not None:
        args.append(f.fiscal_year)
        where.append(f"{alias}.fiscal_year = ${len(args)}")
    return where


async def list_by_id(
    conn: asyncpg.Connection, f: ListFilters, after: str | None, limit: int, existing_at: datetime | None = None
) -> list[dict]:
    """Objectives matching the filters in id order, from `after` on. A status or year
    filter is an EXISTS on coverage (coverage_status_objective / coverage_year_status):
    the objective has a year with that status (in that year). `existing_at`: only those
    defined by then."""
    f = await searched(conn, f)
    args: list[Any] = []
    where = _where(f, args)
    if existing_at is not None:
        args.append(existing_at)
        where.append(f"o.created_at <= ${len(args)}")
    coverage_where = _coverage_where(f, args)
    if coverage_where:
        where.append(
            "EXISTS (SELECT 1 FROM coverage c WHERE c.objective_id = o.objective_id AND "
            + " AND ".join(coverage_where)
            + ")"
        )
    if after is not None:
        args.append(after)
        where.append(f"o.objective_id > ${len(args)}")
    args.append(limit)
    rows = await conn.fetch(
        "SELECT o.objective_id, o.title, o.plan_id, o.kind, o.at_risk_threshold_pct FROM objectives o"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY o.objective_id LIMIT ${len(args)}",
        *args,
    )
    return [dict(r) for r in rows]


async def list_by_gap(
    conn: asyncpg.Connection, f: ListFilters, after: tuple[int, str] | None, limit: int
) -> list[dict]:
    """Objectives matching the filters, largest gap to the threshold first (then by id).
    With a year, one coverage row per objective: the order is read off coverage_year_gap.
    Without one, an objective's gap is its largest over the years that match."""
    f = await searched(conn, f)
    args: list[Any] = []
    where = _where(f, args) + _coverage_where(f, args)
    columns = "o.objective_id, o.title, o.plan_id, o.kind, o.at_risk_threshold_pct"
    source = " FROM coverage c JOIN objectives o USING (objective_id)"
    condition = " WHERE " + " AND ".join(where) if where else ""
    if f.fiscal_year is not None:
        keyset = ""
        if after is not None:
            args += [after[0], after[1]]
            keyset = f"{' AND' if where else ' WHERE'} (c.gap_to_threshold_cents < ${len(args) - 1}" + (
                f" OR (c.gap_to_threshold_cents = ${len(args) - 1} AND c.objective_id > ${len(args)}))"
            )
        args.append(limit)
        sql = (
            f"SELECT {columns}, c.gap_to_threshold_cents AS gap{source}{condition}{keyset}"
            f" ORDER BY c.gap_to_threshold_cents DESC, c.objective_id LIMIT ${len(args)}"
        )
    else:
        # An objective's gap is its largest over the matching years: each objective is
        # taken at its row of largest gap (NOT EXISTS a larger one; ties to the earlier
        # year), so the walk down coverage_gap / coverage_status_gap meets each objective
        # once and pages by key, with no GROUP BY over every row (800 ms at 600,000).
        inner = _coverage_where(f, args, "c2")
        keyset = ""
        if after is not None:
            args += [after[0], after[1]]
            keyset = (
                f" AND (c.gap_to_threshold_cents < ${len(args) - 1} OR (c.gap_to_threshold_cents = ${len(args) - 1}"
                f" AND c.objective_id > ${len(args)}))"
            )
        args.append(limit)
        sql = (
            f"SELECT {columns}, c.gap_to_threshold_cents AS gap{source}"
            f" WHERE {' AND '.join(where) if where else 'true'}{keyset}"
            " AND NOT EXISTS (SELECT 1 FROM coverage c2 WHERE c2.objective_id = c.objective_id"
            + "".join(f" AND {w}" for w in inner)
            + " AND (c2.gap_to_threshold_cents > c.gap_to_threshold_cents OR (c2.gap_to_threshold_cents ="
            " c.gap_to_threshold_cents AND c2.fiscal_year < c.fiscal_year)))"
            f" ORDER BY c.gap_to_threshold_cents DESC, c.objective_id LIMIT ${len(args)}"
        )
    return [dict(r) for r in await conn.fetch(sql, *args)]


async def leads(conn: asyncpg.Connection, objective_ids: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT objective_id, partner_id FROM node_leads WHERE objective_id = ANY($1::text[])", list(objective_ids)
    )
    return {r["objective_id"]: r["partner_id"] for r in rows}


# --- the history read back as of a date ---------------------------------------------


@dataclass(frozen=True)
class TreeNodeAsOf:
    objective_id: str
    parent_id: str | None
    at_risk_threshold_pct: int


async def nodes_below(conn: asyncpg.Connection, roots: Sequence[str], at: datetime) -> list[TreeNodeAsOf]:
    """The roots and their descendants that existed at `at`."""
    rows = await conn.fetch(
        "WITH RECURSIVE down(objective_id) AS (SELECT unnest($1::text[])"
        " UNION SELECT o.objective_id FROM objectives o JOIN down ON o.parent_id = down.objective_id)"
        " SELECT o.objective_id, o.parent_id, o.at_risk_threshold_pct FROM objectives o JOIN down USING (objective_id)"
        " WHERE o.created_at <= $2",
        list(roots),
        at,
    )
    return [TreeNodeAsOf(r["objective_id"], r["parent_id"], r["at_risk_threshold_pct"]) for r in rows]


async def needs_as_of(
    conn: asyncpg.Connection, objective_ids: Sequence[str], at: datetime
) -> dict[tuple[str, int], int]:
    """Each (objective, year)'s need as last set at or before `at` (objective_need_changes_at)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (objective_id, fiscal_year) objective_id, fiscal_year, need_cents"
        " FROM objective_need_changes WHERE objective_id = ANY($1::text[]) AND changed_at <= $2"
        " ORDER BY objective_id, fiscal_year, changed_at DESC, id DESC",
        list(objective_ids),
        at,
    )
    return {(r["objective_id"], r["fiscal_year"]): r["need_cents"] for r in rows}


async def lines_as_of(conn: asyncpg.Connection, objective_ids: Sequence[str], at: datetime) -> list[dict]:
    """Money per (objective, year, institution, level) from each line's latest version at
    or before `at`, with the number of lines."""
    rows = await conn.fetch(
        "SELECT objective_id, fiscal_year, institution_id, level, sum(committed_after_cents)::bigint AS committed_cents,"
        " sum(disbursed_after_cents)::bigint AS disbursed_cents, count(*) AS line_count FROM ("
        " SELECT DISTINCT ON (line_id) objective_id, fiscal_year, institution_id, level, committed_after_cents,"
        " disbursed_after_cents FROM allocation_changes WHERE objective_id = ANY($1::text[]) AND occurred_at <= $2"
        " ORDER BY line_id, line_version DESC) latest GROUP BY objective_id, fiscal_year, institution_id, level",
        list(objective_ids),
        at,
    )
    return [dict(r) for r in rows]


async def last_changes_as_of(conn: asyncpg.Connection, objective_ids: Sequence[str], at: datetime) -> dict[int, dict]:
    """The latest change at or before `at` among these objectives, per fiscal year."""
    rows = await conn.fetch(
        f"SELECT DISTINCT ON (h.fiscal_year) {_CHANGE_COLUMNS} FROM allocation_changes h"
        " WHERE h.objective_id = ANY($1::text[]) AND h.occurred_at <= $2"
        " ORDER BY h.fiscal_year, h.occurred_at DESC, h.id DESC",
        list(objective_ids),
        at,
    )
    return {r["change_year"]: change for r in rows if (change := change_of(r)) is not None}


async def list_candidates(
    conn: asyncpg.Connection, f: ListFilters, after: str | None, limit: int, at: datetime
) -> list[dict]:
    """Objectives defined by `at` matching the filters that do not depend on coverage
    (as_of computes it)."""
    return await list_by_id(conn, ListFilters(plan_id=f.plan_id, lead=f.lead, q=f.q), after, limit, at)


# --- the overview's summary -----------------------------------------------------------


async def summary_rows(conn: asyncpg.Connection, scope: str | None) -> list[dict]:
    """Objective-years and the top-level nodes' money per (year, status), over one scope
    (a plan's id, '' for standalone objectives) or all: a few rows of coverage_summary,
    kept by the triggers of migration 0008, in slots summed here (0015)."""
    rows = await conn.fetch(
        "SELECT fiscal_year, status, sum(objective_years)::bigint AS objective_years,"
        " sum(need_cents) AS need_cents, sum(committed_cents) AS committed_cents,"
        " sum(counted_cents) AS counted_cents, sum(disbursed_cents) AS disbursed_cents"
        " FROM coverage_summary WHERE ($1::text IS NULL OR scope = $1) GROUP BY fiscal_year, status"
        " HAVING sum(objective_years) <> 0 ORDER BY fiscal_year, status",
        scope,
    )
    return [dict(r) for r in rows]


async def summary_levels(conn: asyncpg.Connection, scope: str | None) -> list[dict]:
    rows = await conn.fetch(
        "SELECT fiscal_year, level, sum(committed_cents) AS committed_cents FROM coverage_summary_levels"
        " WHERE ($1::text IS NULL OR scope = $1) GROUP BY fiscal_year, level ORDER BY fiscal_year, level",
        scope,
    )
    return [dict(r) for r in rows]


async def objective_count(conn: asyncpg.Connection, scope: str | None) -> int:
    """Objectives in the scope (objective_counts, kept by the triggers of migration 0008)."""
    return int(
        await conn.fetchval(
            "SELECT coalesce(sum(objectives), 0) FROM objective_counts WHERE ($1::text IS NULL OR scope = $1)",
            scope,
        )
    )
