"""The objectives index (`/objectives`): the objectives service's filtered, searched list
(`GET /v1/objectives?status=&plan_id=&fiscal_year=&lead=&q=&sort=gap&limit=&cursor=`,
answering `{"items": [...], "next_cursor": ...}`) as rows of one objective-year each.

Pure. A service that still answers the old plain list (no filters, no cursor) is read too:
the console then filters that one page itself and the page says so, instead of showing
an unfiltered list as if it were the answer."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

STATUSES = ("AT_RISK", "UNFUNDED", "PARTIALLY_FUNDED", "FUNDED", "NO_NEED")
SORTS = ("gap", "title")
PAGE = 50
LEGACY_PAGE = 1000  # the old list's largest page, which the console filters itself


@dataclass(frozen=True)
class Query:
    status: str | None = None
    plan_id: str | None = None
    fiscal_year: int | None = None
    lead: str | None = None
    q: str | None = None
    sort: str = "gap"

    def params(self) -> dict[str, object]:
        """What goes to the service, the unset filters left out."""
        given = {
            "status": self.status,
            "plan_id": self.plan_id,
            "fiscal_year": self.fiscal_year,
            "lead": self.lead,
            "q": self.q,
            "sort": self.sort,
        }
        return {k: v for k, v in given.items() if v not in (None, "")}

    def wants(self, objective: Mapping, year: Mapping) -> bool:
        """Whether one objective-year passes the filters (for the old list, filtered here)."""
        if self.status and year.get("status") != self.status:
            return False
        if self.fiscal_year is not None and year.get("fiscal_year") != self.fiscal_year:
            return False
        if self.plan_id and objective.get("plan_id") != self.plan_id:
            return False
        if self.lead and objective.get("lead") != self.lead:
            return False
        if self.q:
            words = self.q.casefold()
            if (
                words not in str(objective.get("title") or "").casefold()
                and words not in str(objective.get("objective_id") or "").casefold()
            ):
                return False
        return True


@dataclass
class Listing:
    rows: list[dict] = field(default_factory=list)
    next_cursor: str | None = None
    legacy: bool = False  # the service answered the old plain list, filtered here
    seen: int = 0  # objectives the service answered on this page


def read(answer: object, query: Query) -> Listing | None:
    """Rows from the service's answer, or None when it is neither shape."""
    if isinstance(answer, Mapping) and isinstance(answer.get("items"), list):
        items = [i for i in answer["items"] if isinstance(i, Mapping) and i.get("objective_id")]
        cursor = answer.get("next_cursor")
        return Listing(
            rows=rows_of(items, query),
            next_cursor=cursor if isinstance(cursor, str) and cursor else None,
            seen=len(items),
        )
    if isinstance(answer, list):
        items = [i for i in answer if isinstance(i, Mapping) and i.get("objective_id")]
        return Listing(rows=sort(rows_of(items, query, legacy=True), query.sort), legacy=True, seen=len(items))
    return None


def rows_of(items: Sequence[Mapping], query: Query, legacy: bool = False) -> list[dict]:
    """One row per objective-year to show. The new service searched and filtered by plan
    and lead itself, but an objective it found may come with all its years: only the years
    the status and fiscal-year filters ask for are rows. The old list is filtered whole here."""
    rows = []
    for item in items:
        for year in item.get("years") or []:
            if not isinstance(year, Mapping):
                continue
            if query.wants(item, year) if legacy else _same_objective_filters(query, item, year):
                rows.append({**item, "year": year})
    return rows


def _same_objective_filters(query: Query, item: Mapping, year: Mapping) -> bool:
    """For the new service, which searched and filtered by plan and lead itself: only the
    year-level filters (status, fiscal year) pick which of an objective's years are shown."""
    if query.status and year.get("status") != query.status:
        return False
    return not (query.fiscal_year is not None and year.get("fiscal_year") != query.fiscal_year)


def _cents(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def gap_to_threshold(objective: Mapping, year: Mapping) -> int:
    """The service's figure, or what follows from need, committed money and threshold."""
    given = year.get("gap_to_threshold_cents")
    if isinstance(given, int) and not isinstance(given, bool):
        return given
    threshold = objective.get("at_risk_threshold_pct")
    pct = threshold if isinstance(threshold, int) else 80
    need = _cents(year.get("need_cents"))
    return max(0, -(-need * pct // 100) - _cents(year.get("committed_cents")))


def gap_to_full(year: Mapping) -> int:
    given = year.get("gap_to_full_cents")
    if isinstance(given, int) and not isinstance(given, bool):
        return given
    return max(0, _cents(year.get("need_cents")) - _cents(year.get("committed_cents")))


def sort(rows: list[dict], by: str) -> list[dict]:
    if by == "title":
        return sorted(rows, key=lambda r: (str(r.get("title") or "").casefold(), r["year"].get("fiscal_year") or 0))
    return sorted(
        rows, key=lambda r: (-gap_to_threshold(r, r["year"]), -gap_to_full(r["year"]), str(r["objective_id"]))
    )
