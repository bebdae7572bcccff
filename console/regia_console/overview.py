"""What the overview counts and ranks, from the objectives listing (GET /v1/objectives):
objectives by their worst year's status, and the ones at risk, the newest trouble first."""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .tree import STATUS_RANK, rank


@dataclass(frozen=True)
class AtRisk:
    objective_id: str
    title: str
    plan_id: str | None
    fiscal_year: int | None
    coverage_bp: int


def worst_year(years: Sequence[Mapping]) -> Mapping | None:
    """The year that most needs attention: worst status, then lowest coverage."""
    return min(
        (y for y in years or [] if isinstance(y, Mapping)),
        key=lambda y: (rank(y.get("status")), y.get("coverage_bp") or 0),
        default=None,
    )


def counts_by_status(objectives: Sequence[Mapping]) -> dict[str, int]:
    """Objectives by their worst year's status; one with no year at all declares no need."""
    found = Counter((worst_year(o.get("years", [])) or {}).get("status", "NO_NEED") for o in objectives)
    return {status: found.get(status, 0) for status in STATUS_RANK}


def at_risk_first(objectives: Sequence[Mapping], recently: Mapping[str, float]) -> list[AtRisk]:
    """Every objective-year AT_RISK: first those the console saw go at risk, the most
    recent first (an administrator opens the console because something just happened),
    then the rest by lowest coverage."""
    found = [
        AtRisk(
            str(o["objective_id"]),
            str(o.get("title") or ""),
            o.get("plan_id"),
            y.get("fiscal_year"),
            y.get("coverage_bp") or 0,
        )
        for o in objectives
        for y in o.get("years") or []
        if isinstance(y, Mapping) and y.get("status") == "AT_RISK"
    ]
    return sorted(
        found, key=lambda a: (-recently.get(a.objective_id, 0.0), a.coverage_bp, a.objective_id, str(a.fiscal_year))
    )


def years_of(objectives: Sequence[Mapping]) -> list[int]:
    """Every fiscal year some objective has figures for, in order."""
    return sorted(
        {
            y["fiscal_year"]
            for o in objectives
            for y in o.get("years") or []
            if isinstance(y, Mapping) and isinstance(y.get("fiscal_year"), int)
        }
    )


def counts_in_year(objectives: Sequence[Mapping], fiscal_year: int) -> dict[str, int]:
    """Objectives by their status in one year; those with no figures for it are not counted."""
    found: Counter[str] = Counter()
    for objective in objectives:
        for year in objective.get("years") or []:
            if isinstance(year, Mapping) and year.get("fiscal_year") == fiscal_year:
                found[str(year.get("status") or "NO_NEED")] += 1
    return {status: found.get(status, 0) for status in STATUS_RANK}
