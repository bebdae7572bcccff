"""The objective page's parts that are more than a lookup: the "what changed" box (the
objectives service's changes, `GET /v1/objectives/{id}/changes`, each worded who did what
to which line, from how much to how much, and why), the lines table's filters and sorts
(funding's `GET /v1/funding-lines`, one page at a time), the subtotals by level written
out from the objective document, and the objective's rows in a closed annual review.
Pure: answers in, words and rows out."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from regia_shared.contracts.money import format_euro

from . import charts
from .i18n import translator

LINES_PAGE = 50
LINE_SORTS = ("line_id", "-committed", "committed", "-updated")
CHANGES_SHOWN = 5  # the box on top: the newest few, the full history is funding's ledger
REVIEWS_ASKED = 3  # closed years whose review the page reads, the most recent first


def _cents(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class LineQuery:
    """What the lines table shows: its filters (each None: any) and its order."""

    fiscal_year: int | None = None
    level: str | None = None
    institution_id: str | None = None
    sort: str = "line_id"

    def filters(self) -> dict[str, object]:
        given = {"fiscal_year": self.fiscal_year, "level": self.level, "institution_id": self.institution_id}
        return {k: v for k, v in given.items() if v not in (None, "")}

    def params(self) -> dict[str, object]:
        """The page's own query (filters and sort, no cursor): for links that keep them."""
        return self.filters() | ({"sort": self.sort} if self.sort != "line_id" else {})

    def sorted_by(self, sort: str) -> dict[str, object]:
        """This query in another order, from its first page."""
        return self.filters() | ({"sort": sort} if sort != "line_id" else {})

    @property
    def any(self) -> bool:
        return bool(self.filters())


def refusal(query: LineQuery) -> str | None:
    """What is wrong with the lines table's query, in the words of a 400 page, or None."""
    if query.sort not in LINE_SORTS:
        return f"sort: sort the lines by {', '.join(LINE_SORTS)}"
    if query.level and query.level not in charts.LEVELS:
        return f"level: not a level ({', '.join(charts.LEVELS)})"
    return None


# "from → to" sentences for a line change, by what it did to the line's commitment.
CHANGE_SENTENCES: dict[str, dict[str, str]] = {
    "committed": {
        "it": "{who} impegnò {after} sulla linea {line}",
        "en": "{who} committed {after} on line {line}",
    },
    "cut": {
        "it": "{who} ridusse la linea {line} da {before} a {after} (−{amount})",
        "en": "{who} cut line {line} from {before} to {after} (−{amount})",
    },
    "raised": {
        "it": "{who} aumentò la linea {line} da {before} a {after} (+{amount})",
        "en": "{who} raised line {line} from {before} to {after} (+{amount})",
    },
    "revoked": {
        "it": "{who} revocò la linea {line}: da {before} a {after}",
        "en": "{who} revoked line {line}: from {before} to {after}",
    },
    "moved": {
        "it": "{who} spostò fondi della linea {line}: da {before} a {after}",
        "en": "{who} moved money of line {line}: from {before} to {after}",
    },
    "paid": {
        "it": "{who} erogò sulla linea {line}: {paid} erogati in tutto (impegno invariato, {after})",
        "en": "{who} paid out on line {line}: {paid} paid in all (commitment unchanged, {after})",
    },
    "backfill": {
        "it": "La linea {line} di {who}: {after} (registrata all'aggiornamento)",
        "en": "Line {line} of {who}: {after} (recorded at the upgrade)",
    },
}


def change_kind(change: Mapping) -> str:
    kind = str(change.get("kind") or "")
    delta = _cents(change.get("delta_cents")) or 0
    before = _cents(change.get("committed_before_cents")) or 0
    if kind == "BACKFILL":
        return "backfill"
    if kind == "FundingRevoked":
        return "revoked"
    if kind in ("FundingReallocated", "FundingRolledOver"):
        return "moved"
    if delta == 0:
        return "paid"
    if delta > 0:
        return "committed" if before == 0 else "raised"
    return "cut"


def change_sentence(change: Mapping, language: str, institution: Callable[[str], str]) -> str:
    """One change as a person says it: who, which line, from → to."""
    money: Callable[[object], str] = lambda c: "–" if _cents(c) is None else format_euro(c, language)  # type: ignore[arg-type]  # noqa: E731
    template = CHANGE_SENTENCES[change_kind(change)].get(language) or CHANGE_SENTENCES[change_kind(change)]["en"]
    delta = _cents(change.get("delta_cents"))
    return template.format(
        who=institution(str(change.get("institution_id") or "")),
        line=str(change.get("line_id") or ""),
        before=money(change.get("committed_before_cents")),
        after=money(change.get("committed_after_cents")),
        amount=money(abs(delta) if delta is not None else None),
        paid=money(change.get("disbursed_after_cents")),
    )


@dataclass(frozen=True)
class LevelSubtotal:
    """One level's money in a year. The figures summed from `by_institution` are None
    when the document has no rows by institution for the year (an older service): shown
    as a dash, never as a zero that would say nothing was paid out."""

    level: str
    committed_cents: int
    disbursed_cents: int | None
    line_count: int | None
    institutions: int | None


def level_subtotals(year: Mapping) -> list[LevelSubtotal]:
    """A year's money by level, committed money first: committed from the document's
    `committed_by_level` (the figure the coverage is computed from), disbursed money,
    lines and institutions summed from its `by_institution`."""
    committed = year.get("committed_by_level")
    committed = committed if isinstance(committed, Mapping) else {}
    rest: dict[str, list[int]] = {}
    for row in year.get("by_institution") or []:
        if not isinstance(row, Mapping):
            continue
        level = str(row.get("level") or "OTHER")
        found = rest.setdefault(level, [0, 0, 0])
        found[0] += _cents(row.get("disbursed_cents")) or 0
        found[1] += _cents(row.get("line_count")) or 0
        found[2] += 1
    known = bool(rest)
    levels = {str(k) for k, v in committed.items() if _cents(v)} | set(rest)
    rows = []
    for level in levels:
        disbursed, lines, institutions = rest.get(level, [0, 0, 0])
        rows.append(
            LevelSubtotal(
                level,
                _cents(committed.get(level)) or 0,
                disbursed if known else None,
                lines if known else None,
                institutions if known else None,
            )
        )
    return sorted(rows, key=lambda r: (-r.committed_cents, r.level))


def subtotal_sentence(
    rows: Sequence[LevelSubtotal],
    language: str,
    level_name: Callable[[str], str],
    number: Callable[[int], str] = str,
) -> str:
    """The subtotals written out: "Regione € 3.000.000,00 (1 linea), Comune …"."""
    t = translator(language)
    parts = [
        f"{level_name(r.level)} {format_euro(r.committed_cents, language)}"
        + (
            f" ({number(r.line_count)} {t('line_one') if r.line_count == 1 else t('lines_many')})"
            if r.line_count
            else ""
        )
        for r in rows
    ]
    return ", ".join(parts)


def institutions_of(document: Mapping) -> list[str]:
    """Every institution holding money on the objective, in any year: the lines filter's choices."""
    found: set[str] = set()
    for year in document.get("years") or []:
        for row in (year.get("by_institution") if isinstance(year, Mapping) else None) or []:
            if isinstance(row, Mapping) and isinstance(row.get("institution_id"), str):
                found.add(row["institution_id"])
    return sorted(found)


def closed_years(document: Mapping, this_year: int, kept: int = REVIEWS_ASKED) -> list[int]:
    """The objective's years that have ended, the most recent first: those an annual
    review may have closed (one closes only after its year ends)."""
    years = {
        y["fiscal_year"]
        for y in document.get("years") or []
        if isinstance(y, Mapping) and isinstance(y.get("fiscal_year"), int) and y["fiscal_year"] < this_year
    }
    return sorted(years, reverse=True)[:kept]


def review_row(review: object, objective_id: str) -> dict | None:
    """The objective's frozen figures in a closed review of its plan, or None."""
    if not isinstance(review, Mapping):
        return None
    node = next(
        (n for n in review.get("nodes") or [] if isinstance(n, Mapping) and n.get("node_id") == objective_id), None
    )
    if node is None:
        return None
    return {**node, "fiscal_year": review.get("fiscal_year")}
