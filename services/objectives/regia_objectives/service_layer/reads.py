"""The objectives' reads (issue 18): the objective document without its lines, the history
of changes, the filtered list and coverage as of a date. Each runs in one read-only
snapshot, so the figures of a page never mix two moments."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from regia_shared.contracts.events.objectives import CoverageStatus
from regia_shared.contracts.levels import GovernmentLevel

from ..adapters import reads
from ..adapters.reads import HeldYear, ListFilters
from ..domain.coverage import (
    Allocation,
    YearCoverage,
    gap_to_full_cents,
    gap_to_threshold_cents,
    percent,
    tree_coverage,
)
from ..domain.errors import ObjectiveNotFound, PlanNotFound

# The list, with as_of, computes coverage from the history for a chunk of candidates at a
# time and keeps those whose status matches, until a page is full or AS_OF_MAX_CHUNKS
# chunks were read: then the page is short and its cursor resumes after the last
# candidate read, so no request reads more than 5,000 objectives' history.
AS_OF_CHUNK = 500
AS_OF_MAX_CHUNKS = 10


def year_figures(
    c: YearCoverage,
    threshold_pct: int,
    *,
    line_count: int = 0,
    status_since: datetime | None = None,
    last_change: dict | None = None,
) -> dict:
    """The per-year figures every read shows (docs/api.md, "The objective document")."""
    effective = c.effective_cents
    return {
        "fiscal_year": c.fiscal_year,
        "need_cents": c.need_cents,
        "committed_cents": c.committed_cents,
        # What counts toward the need: each child's money capped at that child's need on a
        # parent; on a leaf the commitment up to the need. The rest is surplus.
        "counted_cents": min(effective, c.need_cents),
        "surplus_cents": c.committed_cents - min(effective, c.need_cents),
        "disbursed_cents": c.disbursed_cents,
        "committed_by_level": c.committed_by_level,
        "line_count": line_count,
        "coverage_bp": c.coverage_bp,
        "coverage_pct": percent(c.coverage_bp),
        "status": c.status.value,
        "status_since": status_since,
        "gap_to_threshold_cents": gap_to_threshold_cents(c.need_cents, effective, threshold_pct),
        "gap_to_full_cents": gap_to_full_cents(c.need_cents, effective),
        # Money committed beyond the need: all of it in a year with no need (NO_NEED).
        "over_committed_cents": c.over_committed_cents,
        # The part of committed_cents funding recorded as history (closed years' money).
        "history_cents": c.history_cents,
        "single_level_dependency": c.dominant_level,
        "last_change": _last_change(last_change),
    }


def _last_change(change: dict | None) -> dict | None:
    if change is None:
        return None
    keep = (
        "at",
        "line_id",
        "institution_id",
        "level",
        "kind",
        "delta_cents",
        "committed_before_cents",
        "committed_after_cents",
        "reason",
        "correlation_id",
    )
    return {k: change[k] for k in keep}


def institutions_by_year(rows: Iterable[Mapping]) -> dict[int, list[dict]]:
    """by_institution per year, committed money first (then institution, level)."""
    found: dict[tuple[int, str, str], dict] = {}
    for r in rows:
        key = (r["fiscal_year"], r["institution_id"], r["level"])
        held = found.setdefault(
            key,
            {
                "institution_id": r["institution_id"],
                "level": r["level"],
                "committed_cents": 0,
                "disbursed_cents": 0,
                "line_count": 0,
            },
        )
        held["committed_cents"] += r["committed_cents"]
        held["disbursed_cents"] += r["disbursed_cents"]
        held["line_count"] += r["line_count"]
    by_year: dict[int, list[dict]] = {}
    for (year, _, _), figures in found.items():
        by_year.setdefault(year, []).append(figures)
    for listed in by_year.values():
        listed.sort(key=lambda f: (-f["committed_cents"], f["institution_id"], f["level"]))
    return by_year


@dataclass(frozen=True)
class AsOf:
    """Coverage of some nodes as it stood at `at`, read back from the history."""

    years: dict[str, list[YearCoverage]]
    lines: list[dict]  # money per (objective, year, institution, level) then
    existing: set[str]  # the nodes that existed then


async def coverage_as_of(conn: asyncpg.Connection, roots: Sequence[str], at: datetime) -> AsOf:
    """The roots' (and their subtrees') coverage at `at`: each need as last set at or
    before it, each line at its latest version at or before it, rolled up as the
    projection does (domain.coverage.tree_coverage)."""
    nodes = await reads.nodes_below(conn, roots, at)
    ids = [n.objective_id for n in nodes]
    needs = await reads.needs_as_of(conn, ids, at)
    lines = await reads.lines_as_of(conn, ids, at)
    money: dict[tuple[str, int], list[Allocation]] = {}
    for r in lines:
        money.setdefault((r["objective_id"], r["fiscal_year"]), []).append(
            Allocation(r["level"], r["committed_cents"], r["disbursed_cents"])
        )
    computed = tree_coverage(
        {n.objective_id: n.parent_id for n in nodes},
        {n.objective_id: n.at_risk_threshold_pct for n in nodes},
        needs,
        money,
    )
    years: dict[str, list[YearCoverage]] = {}
    for (node, _), c in sorted(computed.items()):
        years.setdefault(node, []).append(c)
    return AsOf(years, lines, set(ids))


async def objective_document(pool: asyncpg.Pool, objective_id: str, as_of: datetime | None = None) -> dict:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        objective = await conn.fetchrow(
            "SELECT objective_id, title, plan_id, parent_id, kind, weight, illustrative, at_risk_threshold_pct"
            " FROM objectives WHERE objective_id = $1",
            objective_id,
        )
        if objective is None:
            raise ObjectiveNotFound(f"no objective {objective_id!r}", "objective_id")
        threshold = objective["at_risk_threshold_pct"]
        children = [
            r["objective_id"]
            for r in await conn.fetch(
                "SELECT objective_id FROM objectives WHERE parent_id = $1 ORDER BY position, objective_id", objective_id
            )
        ]
        lead = (await reads.leads(conn, [objective_id])).get(objective_id)
        nodes = await reads.subtree(conn, objective_id) if children else [objective_id]
        if as_of is None:
            held = (await reads.held_years(conn, [objective_id])).get(objective_id, [])
            institutions = institutions_by_year(await reads.by_institution(conn, nodes))
        else:
            then = await coverage_as_of(conn, [objective_id], as_of)
            last = await reads.last_changes_as_of(conn, nodes, as_of)
            held = [HeldYear(c, None, last.get(c.fiscal_year)) for c in then.years.get(objective_id, [])]
            institutions = institutions_by_year(then.lines)
    years = []
    for h in held:
        figures = institutions.get(h.coverage.fiscal_year, [])
        years.append(
            {
                **year_figures(
                    h.coverage,
                    threshold,
                    line_count=sum(f["line_count"] for f in figures),
                    status_since=h.status_since,
                    last_change=h.last_change,
                ),
                "by_institution": figures,
            }
        )
    return {
        "objective_id": objective["objective_id"],
        "title": objective["title"],
        "plan_id": objective["plan_id"],
        "parent_id": objective["parent_id"],
        "kind": objective["kind"],
        "children": children,
        "lead": lead,
        "weight": objective["weight"],
        "illustrative": objective["illustrative"],
        "at_risk_threshold_pct": threshold,
        "as_of": as_of,
        "years": years,
    }


async def changes(
    pool: asyncpg.Pool, objective_id: str, fiscal_year: int | None, after: tuple[datetime, int] | None, limit: int
) -> list[dict]:
    """The line changes that moved the objective (its subtree's, for a parent), newest first."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        exists = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM objectives WHERE objective_id = $1)", objective_id)
        if not exists:
            raise ObjectiveNotFound(f"no objective {objective_id!r}", "objective_id")
        nodes = await reads.subtree(conn, objective_id)
        return await reads.changes(conn, nodes, fiscal_year, after, limit)


async def objective_list(
    pool: asyncpg.Pool, filters: ListFilters, sort: str, after: list[Any] | None, limit: int, as_of: datetime | None
) -> tuple[list[dict], str | None]:
    """Up to `limit` items of the list after the key `after` (see entrypoints), and with
    as_of, the id to resume after when the scan stopped before filling the page."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        if as_of is not None:
            return await _list_as_of(conn, filters, str(after[0]) if after else None, limit, as_of)
        if sort == "gap":
            found = await reads.list_by_gap(conn, filters, (int(after[0]), str(after[1])) if after else None, limit)
        else:
            found = await reads.list_by_id(conn, filters, str(after[0]) if after else None, limit)
        ids = [o["objective_id"] for o in found]
        held = await reads.held_years(conn, ids, filters.fiscal_year)
        counts = await reads.line_counts(conn, ids)
        leads = await reads.leads(conn, ids)
    items = [
        {
            **{k: o[k] for k in ("objective_id", "title", "plan_id", "kind", "at_risk_threshold_pct")},
            "lead": leads.get(o["objective_id"]),
            "years": [
                year_figures(
                    h.coverage,
                    o["at_risk_threshold_pct"],
                    line_count=counts.get((o["objective_id"], h.coverage.fiscal_year), 0),
                    status_since=h.status_since,
                    last_change=h.last_change,
                )
                for h in held.get(o["objective_id"], [])
            ],
        }
        for o in found
    ]
    return items, None


async def _list_as_of(
    conn: asyncpg.Connection, filters: ListFilters, after: str | None, limit: int, at: datetime
) -> tuple[list[dict], str | None]:
    """The list in id order with coverage as of `at`: candidates by the filters SQL can
    apply, coverage computed from the history chunk by chunk, status and year applied to
    what it gives."""
    items: list[dict] = []
    for _ in range(AS_OF_MAX_CHUNKS):
        found = await reads.list_candidates(conn, filters, after, AS_OF_CHUNK, at)
        if not found:
            return items, None
        ids = [o["objective_id"] for o in found]
        then = await coverage_as_of(conn, ids, at)
        counts: dict[tuple[str, int], int] = {}
        for r in then.lines:
            key = (r["objective_id"], r["fiscal_year"])
            counts[key] = counts.get(key, 0) + r["line_count"]
        leads = await reads.leads(conn, ids)
        for o in found:
            if o["objective_id"] not in then.existing:
                continue  # defined later
            years = [
                c
                for c in then.years.get(o["objective_id"], [])
                if filters.fiscal_year is None or c.fiscal_year == filters.fiscal_year
            ]
            if filters.status is not None and not any(c.status.value == filters.status for c in years):
                continue
            if filters.fiscal_year is not None and not years:
                continue
            items.append(
                {
                    **{k: o[k] for k in ("objective_id", "title", "plan_id", "kind", "at_risk_threshold_pct")},
                    "lead": leads.get(o["objective_id"]),
                    "years": [
                        year_figures(
                            c,
                            o["at_risk_threshold_pct"],
                            line_count=counts.get((o["objective_id"], c.fiscal_year), 0),
                        )
                        for c in years
                    ],
                }
            )
            if len(items) == limit:
                return items, None
        after = found[-1]["objective_id"]
        if len(found) < AS_OF_CHUNK:
            return items, None
    return items, after


def _zeros(keys: Iterable[str]) -> dict[str, int]:
    return dict.fromkeys(keys, 0)


async def summary(pool: asyncpg.Pool, fiscal_year: int | None, plan_id: str | None) -> dict:
    """The overview's figures (docs/api.md, "The overview"): objective-years by status,
    and the money of the top-level nodes (standalone objectives and plan roots, whose
    figures hold their subtree's), over every year or one, over everything or one plan."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        if plan_id is not None and not await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM plans WHERE plan_id = $1)", plan_id
        ):
            raise PlanNotFound(f"no plan {plan_id!r}", "plan_id")
        rows = await reads.summary_rows(conn, plan_id)
        levels = await reads.summary_levels(conn, plan_id)
        objectives = await reads.objective_count(conn, plan_id) if fiscal_year is None else 0
    statuses = [s.value for s in CoverageStatus]
    level_names = [g.value for g in GovernmentLevel]
    years: dict[int, dict] = {}
    for r in rows:
        year = years.setdefault(
            r["fiscal_year"],
            {
                "fiscal_year": r["fiscal_year"],
                "need_cents": 0,
                "committed_cents": 0,
                "counted_cents": 0,
                "disbursed_cents": 0,
                "committed_by_level": _zeros(level_names),
                "counts": _zeros(statuses),
            },
        )
        for k in ("need_cents", "committed_cents", "counted_cents", "disbursed_cents"):
            year[k] += int(r[k])
        year["counts"][r["status"]] = year["counts"].get(r["status"], 0) + r["objective_years"]
    for r in levels:
        if r["fiscal_year"] in years and r["committed_cents"]:
            by_level = years[r["fiscal_year"]]["committed_by_level"]
            by_level[r["level"]] = by_level.get(r["level"], 0) + int(r["committed_cents"])
    every_year = sorted(years)
    chosen = [years[y] for y in every_year if fiscal_year is None or y == fiscal_year]
    counts = _zeros(statuses)
    by_level = _zeros(level_names)
    for year in chosen:
        for status, n in year["counts"].items():
            counts[status] = counts.get(status, 0) + n
        for level, cents in year["committed_by_level"].items():
            by_level[level] = by_level.get(level, 0) + cents
    return {
        "fiscal_years": every_year,
        "fiscal_year": fiscal_year,
        # With a year: the objectives with figures that year (each has one row of it);
        # without: every objective in scope, with figures or not.
        "objectives": sum(counts.values()) if fiscal_year is not None else objectives,
        "counts": counts,
        "need_cents": sum(y["need_cents"] for y in chosen),
        "committed_cents": sum(y["committed_cents"] for y in chosen),
        "counted_cents": sum(y["counted_cents"] for y in chosen),
        "disbursed_cents": sum(y["disbursed_cents"] for y in chosen),
        "committed_by_level": by_level,
        "by_year": chosen,
    }
