"""What the overview shows, from answers that stay small at a region's size: the objectives
service's summary (`GET /v1/summary`: counts by status and money, computed there) and one
page of the at-risk objectives, largest gap first (`GET /v1/objectives?status=AT_RISK&
fiscal_year=&sort=gap&limit=`), each with whether the notifier told anyone. Pure: answers
in, view rows out. Nothing here walks every objective: at 200,000 objectives that was 400
requests for one page view."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .tree import STATUS_RANK

AT_RISK_ROWS = 20  # rows of the overview's at-risk table; the index pages through the rest
RECENT_PINNED = 5  # objectives seen going at risk by the live feed, shown first
FALLBACK_COUNT = 100  # per status, when the service has no summary yet: counted up to this


def _cents(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def moment(value: object) -> datetime | None:
    """An ISO date-time as the services write it (`…Z` or `…+00:00`; one without a zone is
    UTC, as the notifier's are), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Told:
    """Whether anyone was told since the objective-year went at risk, from the notifier's
    deliveries of the objective (newest first). `state`: `told` (delivered), `sending`
    (queued or being tried), `failed` (the notifier gave up), `nobody` (no delivery since
    the status changed), `unknown` (the notifier did not answer)."""

    state: str
    recipient: str = ""
    channel: str = ""
    at: str = ""
    count: int = 0
    earlier: str = ""  # the last delivery before the status changed, when nobody was told since


def told(deliveries: Sequence[Mapping] | None, since: object) -> Told:
    if deliveries is None:
        return Told("unknown")
    start = moment(since)
    after = [d for d in deliveries if start is None or (moment(d.get("created_at")) or start) >= start]
    delivered = [d for d in after if d.get("status") == "DELIVERED"]
    if delivered:
        d = delivered[0]
        return Told(
            "told",
            str(d.get("recipient_name") or d.get("recipient") or ""),
            str(d.get("channel") or ""),
            str(d.get("finished_at") or d.get("created_at") or "")[:16].replace("T", " "),
            len(delivered),
        )
    for state, statuses in (("sending", ("PENDING", "SENDING")), ("failed", ("DEAD",))):
        found = [d for d in after if d.get("status") in statuses]
        if found:
            d = found[0]
            recipient = str(d.get("recipient_name") or d.get("recipient") or "")
            when = str(d.get("created_at") or "")[:16].replace("T", " ")
            return Told(state, recipient, str(d.get("channel") or ""), when, len(found))
    earlier = next((str(d.get("created_at") or "")[:10] for d in deliveries if d not in after), "")
    return Told("nobody", earlier=earlier)


@dataclass
class AtRiskRow:
    """One objective-year at risk, with what explains it and what it would take."""

    objective_id: str
    title: str
    plan_id: str | None
    lead: str | None
    threshold_pct: int
    year: Mapping
    recent: bool = False  # the live feed saw it go at risk since the console started
    told: Told = field(default_factory=lambda: Told("unknown"))

    @property
    def fiscal_year(self) -> object:
        return self.year.get("fiscal_year")

    @property
    def coverage_bp(self) -> int:
        return _cents(self.year.get("coverage_bp")) or 0

    @property
    def last_change(self) -> Mapping | None:
        found = self.year.get("last_change")
        return found if isinstance(found, Mapping) else None

    @property
    def by_level(self) -> list[tuple[str, int]]:
        given = self.year.get("committed_by_level")
        if not isinstance(given, Mapping):
            return []
        return sorted(((str(k), v) for k, v in given.items() if _cents(v)), key=lambda kv: -kv[1])


def at_risk_rows(items: Iterable[object], fiscal_year: int | None, recent: Iterable[str] = ()) -> list[AtRiskRow]:
    """The rows of the objectives the service answered, each for `fiscal_year` (None: any
    year) when that year is AT_RISK; in the order given (the service's gap order)."""
    pinned = set(recent)
    rows = []
    for item in items:
        if not isinstance(item, Mapping) or not item.get("objective_id"):
            continue
        for year in item.get("years") or []:
            if (
                isinstance(year, Mapping)
                and (fiscal_year is None or year.get("fiscal_year") == fiscal_year)
                and year.get("status") == "AT_RISK"
            ):
                threshold = _cents(item.get("at_risk_threshold_pct"))
                lead = item.get("lead")
                rows.append(
                    AtRiskRow(
                        str(item["objective_id"]),
                        str(item.get("title") or ""),
                        item.get("plan_id") if isinstance(item.get("plan_id"), str) else None,
                        lead if isinstance(lead, str) and lead else None,
                        threshold if threshold is not None else 80,
                        year,
                        recent=str(item["objective_id"]) in pinned,
                    )
                )
    return rows


def newest_first(went_at_risk: Mapping[str, float], kept: int = RECENT_PINNED) -> list[str]:
    """The objectives the live feed saw go at risk, the most recent first."""
    return [o for o, _ in sorted(went_at_risk.items(), key=lambda kv: -kv[1])][:kept]


def merge(pinned: Sequence[AtRiskRow], by_gap: Sequence[AtRiskRow]) -> list[AtRiskRow]:
    """What just went at risk first (an administrator opens the console because something
    just happened), then the largest gaps; each objective-year once."""
    seen = {(r.objective_id, r.fiscal_year) for r in pinned}
    return [*pinned, *(r for r in by_gap if (r.objective_id, r.fiscal_year) not in seen)]


@dataclass
class YearFigures:
    """The overview's counts and money for one year (or all, `fiscal_year` None)."""

    fiscal_year: int | None
    counts: dict[str, int]
    capped: set[str] = field(default_factory=set)  # statuses counted only up to FALLBACK_COUNT
    objectives: int | None = None
    need_cents: int | None = None
    committed_cents: int | None = None
    counted_cents: int | None = None
    disbursed_cents: int | None = None
    committed_by_level: dict[str, int] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return bool(sum(self.counts.values())) or bool(self.committed_cents)


def _counts(given: object) -> dict[str, int]:
    counts = given if isinstance(given, Mapping) else {}
    return {status: _cents(counts.get(status)) or 0 for status in STATUS_RANK}


def _levels(given: object) -> dict[str, int]:
    if not isinstance(given, Mapping):
        return {}
    return {str(k): v for k, v in given.items() if _cents(v)}


def summary_years(summary: Mapping) -> list[int]:
    years = summary.get("fiscal_years")
    found = {y for y in years if isinstance(y, int) and not isinstance(y, bool)} if isinstance(years, list) else set()
    for row in summary.get("by_year") or []:
        if isinstance(row, Mapping) and isinstance(row.get("fiscal_year"), int):
            found.add(row["fiscal_year"])
    return sorted(found)


def summary_for(summary: Mapping, fiscal_year: int) -> YearFigures:
    """The year's figures from the summary: its `by_year` row, or the top level when the
    summary was asked for that year alone."""
    row: Mapping | None = next(
        (r for r in summary.get("by_year") or [] if isinstance(r, Mapping) and r.get("fiscal_year") == fiscal_year),
        None,
    )
    if row is None and summary.get("fiscal_year") == fiscal_year:
        row = summary
    if row is None:
        return YearFigures(fiscal_year, _counts({}))
    counts = _counts(row.get("counts"))
    return YearFigures(
        fiscal_year,
        counts,
        objectives=_cents(row.get("objectives")) if "objectives" in row else sum(counts.values()),
        need_cents=_cents(row.get("need_cents")),
        committed_cents=_cents(row.get("committed_cents")),
        counted_cents=_cents(row.get("counted_cents")),
        disbursed_cents=_cents(row.get("disbursed_cents")),
        committed_by_level=_levels(row.get("committed_by_level")),
    )


def fallback_for(fiscal_year: int, pages: Mapping[str, object], totals: Sequence[Mapping] | None) -> YearFigures:
    """The year's figures while the objectives service has no summary: each status counted
    from one page of the filtered list (at most FALLBACK_COUNT, `capped` when there is
    more), the committed money from funding's totals; the need is not known."""
    counts: dict[str, int] = {}
    capped: set[str] = set()
    for status in STATUS_RANK:
        answer = pages.get(status)
        items = answer.get("items") if isinstance(answer, Mapping) else None
        if not isinstance(items, list):
            counts[status] = 0
            continue
        counts[status] = sum(
            1
            for item in items
            if isinstance(item, Mapping)
            and any(
                isinstance(y, Mapping) and y.get("fiscal_year") == fiscal_year and y.get("status") == status
                for y in item.get("years") or []
            )
        )
        if isinstance(answer, Mapping) and answer.get("next_cursor"):
            capped.add(status)
    by_level: dict[str, int] = {}
    disbursed = 0
    for row in totals or []:
        if isinstance(row, Mapping) and row.get("fiscal_year") == fiscal_year and _cents(row.get("committed_cents")):
            level = str(row.get("level") or "OTHER")
            by_level[level] = by_level.get(level, 0) + row["committed_cents"]
            disbursed += _cents(row.get("disbursed_cents")) or 0
    return YearFigures(
        fiscal_year,
        counts,
        capped,
        committed_cents=sum(by_level.values()) if totals is not None else None,
        disbursed_cents=disbursed if totals is not None else None,
        committed_by_level=by_level,
    )


def fallback_years(totals: Sequence[Mapping] | None, plans: Sequence[Mapping] | None) -> list[int]:
    """The years the overview offers without a summary: those funding has money for and
    those the plans span."""
    found = {r["fiscal_year"] for r in totals or [] if isinstance(r, Mapping) and isinstance(r.get("fiscal_year"), int)}
    for plan in plans or []:
        first, last = plan.get("first_year"), plan.get("last_year")
        if isinstance(first, int) and isinstance(last, int) and 0 <= last - first <= 50:
            found |= set(range(first, last + 1))
    return sorted(found)
