"""What each kind of alert says: its subject, intro, facts and reference. Pure.

The content is kept apart from its layout so one alert reads the same as a message of its
own, as a section of a digest, in plain text and in HTML. Every string that comes from
outside (titles, names, reasons, ids) is collapsed to one line here, once.
"""

from dataclasses import dataclass

from regia_shared.contracts.events.objectives import CoverageStatus

from ..causes import FundingCause
from ..coverage_gap import Gap
from ..occurrences import CurrentState, FundingDrop, LineRevoked, Occurrence, PlanNode, ReviewClosed, StatusChange
from .causes import cause_facts
from .wording import (
    WORDS,
    Language,
    gap_label,
    levels_label,
    money,
    one_line,
    path_label,
    percent,
    status_label,
    whole_percent,
)


class Link(str):
    """A fact's value that is an address: as is in plain text, a link in HTML."""

    __slots__ = ()

    @property
    def href(self) -> str:
        return str(self)


Fact = tuple[str, str]  # (label, value); the value may be a Link


@dataclass(frozen=True)
class Alert:
    heading: str  # the subject without the "[Regia] " tag
    intro: str
    facts: tuple[Fact, ...]
    refs: str  # the ids a reader quotes when asking about it, e.g. "objective miglio-blu"
    # What a lead needs to act (what is missing, who committed what, where it sits, where
    # to look): a block of its own after the facts, so it never shifts their alignment.
    story: tuple[Fact, ...] = ()

    @property
    def subject(self) -> str:
        return f"[Regia] {self.heading}"

    def reference(self, language: Language, event_id: str) -> str:
        return WORDS[language]["reference"].format(refs=self.refs, event_id=one_line(event_id))


def describe(occurrence: Occurrence, language: Language) -> Alert:
    match occurrence:
        case StatusChange():
            return _status_change(occurrence, language)
        case FundingDrop():
            return _funding_drop(occurrence, language)
        case LineRevoked():
            return _line_revoked(occurrence, language)
        case ReviewClosed():
            return _review_closed(occurrence, language)
        case CurrentState():
            return _current_state(occurrence, language)
    raise TypeError(f"no message for {type(occurrence).__name__}")


def _status_change(o: StatusChange, language: Language) -> Alert:
    w = WORDS[language]
    title = one_line(o.title)
    new = status_label(o.status, language)
    old = status_label(o.previous_status, language) if o.previous_status else w["none"]
    facts = (
        (w["objective"], title),
        (w["year"], str(o.fiscal_year)),
        (w["status"], f"{old} → {new}"),
        (w["coverage"], percent(o.coverage_bp, language)),
        (w["need"], money(o.need_cents, language)),
        (w["committed"], money(o.committed_cents, language)),
        (w["threshold"], whole_percent(o.at_risk_threshold_pct, language)),
    )
    return Alert(
        f"{title} {o.fiscal_year}: {new}",
        w["intro.status"],
        facts,
        w["ref.objective"].format(id=one_line(o.objective_id)),
        story(o.gap, o.committed_by_level, o.path, o.console_url, language, o.causes),
    )


def _funding_drop(o: FundingDrop, language: Language) -> Alert:
    w = WORDS[language]
    title = one_line(o.title)
    pct = percent(o.drop_bp, language)
    facts = (
        (w["objective"], title),
        (w["year"], str(o.fiscal_year)),
        (w["before"], money(o.before_cents, language)),
        (w["now"], money(o.after_cents, language)),
        (w["drop"], f"{money(max(o.before_cents - o.after_cents, 0), language)} ({pct})"),
        (w["need"], money(o.need_cents, language)),
        (w["coverage"], percent(o.coverage_bp, language)),
        (w["status"], status_label(o.status, language)),
    )
    heading = f"{title} {o.fiscal_year}: " + w["subject.drop"].format(pct=pct)
    return Alert(
        heading,
        w["intro.drop"].format(pct=pct),
        facts,
        w["ref.objective"].format(id=one_line(o.objective_id)),
        story(o.gap, o.committed_by_level, o.path, o.console_url, language, o.causes),
    )


def _line_revoked(o: LineRevoked, language: Language) -> Alert:
    w = WORDS[language]
    line_id = one_line(o.line_id)
    # The notifier may not have seen the objective or the institution yet: their ids
    # still let the reader find them in the console.
    objective = one_line(o.objective_title or "") or one_line(o.objective_id)
    institution = one_line(o.institution_name or "") or one_line(o.institution_id)
    reason = one_line(o.reason or "")
    facts: tuple[Fact, ...] = (
        (w["line"], line_id),
        (w["objective"], objective),
        (w["year"], str(o.fiscal_year)),
        (w["institution"], institution),
        (w["revoked"], money(o.revoked_cents, language)),
    ) + (((w["reason"], reason),) if reason else ())
    heading = w["subject.revoked"].format(line_id=line_id)
    if o.objective_title and one_line(o.objective_title):
        heading += f": {one_line(o.objective_title)}"
    refs = ", ".join((w["ref.line"].format(id=line_id), w["ref.objective"].format(id=one_line(o.objective_id))))
    return Alert(heading, w["intro.revoked"], facts, refs)


def _review_closed(o: ReviewClosed, language: Language) -> Alert:
    w = WORDS[language]
    plan = one_line(o.plan_title or "") or one_line(o.plan_id)
    facts = (
        (w["plan"], plan),
        (w["year"], str(o.fiscal_year)),
        (w["need"], money(o.need_cents, language)),
        (w["committed"], money(o.committed_cents, language)),
        (w["disbursed"], money(o.disbursed_cents, language)),
        (w["coverage"], percent(o.coverage_bp, language)),
        (w["nodes"], _nodes_by_status(o.nodes_by_status, language) or w["none"]),
    )
    return Alert(
        w["subject.review"].format(year=o.fiscal_year, plan=plan),
        w["intro.review"],
        facts,
        w["ref.plan"].format(id=one_line(o.plan_id)),
    )


# The words of the one message a newly assigned lead gets, beside the only alert that uses them.
_CURRENT_STATE: dict[str, dict[str, str]] = {
    "it": {
        "subject": "{title}: stato attuale degli anni non finanziati",
        "intro": "siete ora capofila di questo obiettivo: ecco lo stato attuale degli anni "
        "del bilancio non ancora finanziati.",
        "year": "Anno {year}",
        "line": "{status}, copertura {coverage} (impegnato {committed} su {need})",
        "gap": "; mancano {gap}",
        "levels": "; per livello: {levels}",
    },
    "en": {
        "subject": "{title}: current state of its unfunded years",
        "intro": "you now lead this objective: here is the current state of its budget years not yet funded.",
        "year": "Year {year}",
        "line": "{status}, coverage {coverage} ({committed} committed of {need})",
        "gap": "; missing {gap}",
        "levels": "; by level: {levels}",
    },
}


def _current_state(o: CurrentState, language: Language) -> Alert:
    w, c = WORDS[language], _CURRENT_STATE[language]
    title = one_line(o.title)
    facts: tuple[Fact, ...] = ((w["objective"], title),)
    for y in o.years:
        line = c["line"].format(
            status=status_label(y.status, language),
            coverage=percent(y.coverage_bp, language),
            committed=money(y.committed_cents, language),
            need=money(y.need_cents, language),
        )
        gap = o.gap(y)
        if gap is not None:
            line += c["gap"].format(gap=gap_label(gap, language))
        levels = levels_label(y.committed_by_level, language) if y.committed_by_level else ""
        if levels:
            line += c["levels"].format(levels=levels)
        facts += ((c["year"].format(year=y.fiscal_year), line),)
    return Alert(
        c["subject"].format(title=title),
        c["intro"],
        facts,
        w["ref.objective"].format(id=one_line(o.objective_id)),
        story(None, None, o.path, o.console_url, language),
    )


def story(
    gap: Gap | None,
    by_level: dict[str, int] | None,
    path: tuple[PlanNode, ...],
    console_url: str | None,
    language: Language,
    causes: tuple[FundingCause, ...] = (),
) -> tuple[Fact, ...]:
    """What a lead needs to act: why it happened (who acted, on which line, the reason),
    what is missing, who committed what, where the objective sits in its plan and where to
    look. Each only when known: no cause before its funding event reached the notifier, no
    gap for a year with no need, no path for a node without known ancestors."""
    w = WORDS[language]
    facts: tuple[Fact, ...] = cause_facts(causes, language)
    if gap is not None:
        facts += ((w["gap"], gap_label(gap, language)),)
    levels = levels_label(by_level, language) if by_level else ""
    if levels:
        facts += ((w["levels"], levels),)
    if len(path) > 1:
        facts += ((w["path"], path_label([node.title for node in path])),)
    if console_url:
        facts += ((w["console"], Link(one_line(console_url))),)
    return facts


_KNOWN = frozenset(s.value for s in CoverageStatus)


def _nodes_by_status(counts: dict[str, int], language: Language) -> str:
    """Best status first, as the console lists them; a status this version does not know
    is shown as sent rather than dropped, so the counts still add up."""
    known = [s for s in CoverageStatus if counts.get(s.value)]
    unknown = sorted(k for k, n in counts.items() if n and k not in _KNOWN)
    parts = [f"{status_label(s, language)} {counts[s.value]}" for s in known]
    return ", ".join(parts + [f"{one_line(k)} {counts[k]}" for k in unknown])
