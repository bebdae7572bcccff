"""What each kind of alert says: its subject, intro, facts and reference. Pure.

The content is kept apart from its layout so one alert reads the same as a message of its
own, as a section of a digest, in plain text and in HTML. Every string that comes from
outside (titles, names, reasons, ids) is collapsed to one line here, once.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from regia_shared.contracts.events.objectives import CoverageStatus

from ..causes import FundingCause
from ..coverage_gap import Gap
from ..occurrences import (
    CurrentState,
    FundingDrop,
    IndicatorBehind,
    LineRevoked,
    MilestoneOverdue,
    Occurrence,
    PlanNode,
    ReviewClosed,
    SingleLevelDependency,
    StatusChange,
)
from .causes import cause_facts
from .wording import (
    WORDS,
    Language,
    day_label,
    decimal_label,
    gap_label,
    level_label,
    levels_label,
    money,
    one_line,
    path_label,
    percent,
    ratio_percent,
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
        case SingleLevelDependency():
            return _single_level(occurrence, language)
        case MilestoneOverdue():
            return _milestone_overdue(occurrence, language)
        case IndicatorBehind():
            return _indicator_behind(occurrence, language)
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


# The words of the three alerts below, each beside the only alert that uses them. Each says
# what happened, why it matters (the intro), and what would fix it (the story's first fact).
_SINGLE_LEVEL: dict[str, dict[str, str]] = {
    "it": {
        "subject": "finanziato da un solo livello ({level})",
        "intro": "tutto l'impegno finanziario di un obiettivo che seguite viene ora da un solo livello di "
        "governo, {level}, mentre prima veniva da {n} livelli: un taglio o una revoca a quel livello "
        "ricadrebbe per intero sull'obiettivo, senza altri finanziatori a dividerne il peso.",
        "sole": "Unico livello",
        "before": "Prima, per livello",
        "fix": "l'impegno di un altro livello di governo o di un cofinanziatore privato, perché nessun "
        "taglio da solo lasci l'obiettivo scoperto",
    },
    "en": {
        "subject": "funded by one level only ({level})",
        "intro": "all the committed funding of an objective you follow now comes from one level of "
        "government, {level}, where it came from {n} levels: a cut or a revocation at that level would "
        "fall on the objective whole, with no other funder to share it.",
        "sole": "Sole level",
        "before": "Before, by level",
        "fix": "a commitment from another level of government or a private co-funder, so that no single "
        "cut leaves the objective uncovered",
    },
}


def _single_level(o: SingleLevelDependency, language: Language) -> Alert:
    w, c = WORDS[language], _SINGLE_LEVEL[language]
    title, level = one_line(o.title), level_label(o.level, language)
    levels = sum(1 for cents in o.previous_committed_by_level.values() if cents)
    facts = (
        (w["objective"], title),
        (w["year"], str(o.fiscal_year)),
        (c["sole"], f"{level} {money(o.committed_cents, language)}"),
        (c["before"], levels_label(o.previous_committed_by_level, language) or w["none"]),
        (w["need"], money(o.need_cents, language)),
        (w["coverage"], percent(o.coverage_bp, language)),
        (w["status"], status_label(o.status, language)),
    )
    return Alert(
        f"{title} {o.fiscal_year}: " + c["subject"].format(level=level),
        c["intro"].format(level=level, n=max(levels, 2)),
        facts,
        w["ref.objective"].format(id=one_line(o.objective_id)),
        story(o.gap, None, (), None, language)
        + ((w["fix"], c["fix"]),)
        + story(None, None, o.path, o.console_url, language),
    )


_MILESTONE: dict[str, dict[str, str]] = {
    "it": {
        "subject": "{objective}: traguardo scaduto – {milestone}",
        "intro": "un traguardo di un obiettivo che seguite non è stato raggiunto entro la data prevista: un "
        "traguardo mancato può ritardare le fasi che ne dipendono e la spesa dei fondi impegnati.",
        "milestone": "Traguardo",
        "due": "Previsto per",
        "late": "Scaduto da",
        "day": "1 giorno",
        "days": "{n} giorni",
        "fix": "se è stato raggiunto, fatelo registrare con la sua data; altrimenti concordate una nuova "
        "data prevista e fatela registrare nel piano",
        "ref": "traguardo {id}",
    },
    "en": {
        "subject": "{objective}: milestone overdue – {milestone}",
        "intro": "a milestone of an objective you follow was not reached by its due date: a missed milestone "
        "can hold up the steps that depend on it and the spending of the money committed.",
        "milestone": "Milestone",
        "due": "Due on",
        "late": "Overdue for",
        "day": "1 day",
        "days": "{n} days",
        "fix": "if it was reached, have it recorded with its date; otherwise agree a new due date and have it "
        "recorded in the plan",
        "ref": "milestone {id}",
    },
}


def _milestone_overdue(o: MilestoneOverdue, language: Language) -> Alert:
    w, c = WORDS[language], _MILESTONE[language]
    objective = one_line(o.objective_title or "") or one_line(o.objective_id)
    milestone = one_line(o.title)
    late = max((o.noticed_on - o.due_on).days, 1)
    facts = (
        (w["objective"], objective),
        (c["milestone"], milestone),
        (c["due"], day_label(o.due_on, language)),
        (c["late"], c["day"] if late == 1 else c["days"].format(n=late)),
    )
    refs = ", ".join(
        (w["ref.objective"].format(id=one_line(o.objective_id)), c["ref"].format(id=one_line(o.milestone_id)))
    )
    return Alert(
        c["subject"].format(objective=objective, milestone=milestone),
        c["intro"],
        facts,
        refs,
        ((w["fix"], c["fix"]),) + story(None, None, o.path, o.console_url, language),
    )


_INDICATOR: dict[str, dict[str, str]] = {
    "it": {
        "subject": "{objective}: {indicator} in ritardo sul percorso verso il target {year}",
        "intro": "l'ultima misura di un indicatore di un obiettivo che seguite è indietro rispetto al "
        "percorso che porta dal valore di partenza al target dell'anno{before}: se il ritardo non si "
        "recupera, il target non sarà raggiunto.",
        "was": ", mentre la misura precedente non lo era",
        "first": " (è la sua prima misura)",
        "indicator": "Indicatore",
        "measured": "Misurato",
        "expected": "Atteso sul percorso",
        "target": "Target",
        "by": "{value} entro il {day}",
        "baseline": "Valore di partenza",
        "progress": "Avanzamento",
        "progress.value": "{progress} del percorso, {expected} atteso",
        "previous": "Misura precedente",
        "fix": "azioni che riportino l'indicatore sul percorso; se il target non è più realistico, va rivisto",
        "ref": "indicatore {id}",
    },
    "en": {
        "subject": "{objective}: {indicator} behind its path to the {year} target",
        "intro": "the latest measurement of an indicator of an objective you follow is behind the path from "
        "its baseline to the year's target{before}: unless the gap is made up, the target will be missed.",
        "was": ", where the measurement before it was not",
        "first": " (it is its first measurement)",
        "indicator": "Indicator",
        "measured": "Measured",
        "expected": "Expected on the path",
        "target": "Target",
        "by": "{value} by {day}",
        "baseline": "Baseline",
        "progress": "Progress",
        "progress.value": "{progress} of the way, {expected} expected",
        "previous": "Previous measurement",
        "fix": "action that brings the indicator back onto its path; if the target is no longer realistic, revising it",
        "ref": "indicator {id}",
    },
}


def _indicator_behind(o: IndicatorBehind, language: Language) -> Alert:
    w, c = WORDS[language], _INDICATOR[language]
    objective = one_line(o.objective_title or "") or one_line(o.objective_id)
    name, unit = one_line(o.name), one_line(o.unit)

    def amount(value: str) -> str:
        return f"{decimal_label(value, language)} {unit}"

    previous = (
        f"{amount(o.previous_value)} ({day_label(o.previous_measured_on, language)})"
        if o.previous_value is not None and o.previous_measured_on is not None
        else w["none"]
    )
    facts = (
        (w["objective"], objective),
        (c["indicator"], name),
        (w["year"], str(o.fiscal_year)),
        (c["measured"], f"{amount(o.value)} ({day_label(o.measured_on, language)})"),
        (c["expected"], amount(_rounded_like(o.expected_value, o.value, o.target_value, o.baseline_value))),
        (
            c["target"],
            c["by"].format(value=amount(o.target_value), day=day_label(date(o.fiscal_year, 12, 31), language)),
        ),
        (c["baseline"], f"{amount(o.baseline_value)} ({o.baseline_year})"),
        (
            c["progress"],
            c["progress.value"].format(
                progress=ratio_percent(o.progress, language), expected=ratio_percent(o.expected_progress, language)
            ),
        ),
        (c["previous"], previous),
    )
    refs = ", ".join(
        (w["ref.objective"].format(id=one_line(o.objective_id)), c["ref"].format(id=one_line(o.indicator_id)))
    )
    return Alert(
        c["subject"].format(objective=objective, indicator=name, year=o.fiscal_year),
        c["intro"].format(before=c["was"] if o.previous_value is not None else c["first"]),
        facts,
        refs,
        ((w["fix"], c["fix"]),) + story(None, None, o.path, o.console_url, language),
    )


def _rounded_like(value: str, *figures: str) -> str:
    """A value computed on the path (to six places) shown to the places the indicator's own
    figures are written with, at least two: 1,150.14 jobs, not 1,150.136986."""
    places = max([2, *(len(f.partition(".")[2]) for f in figures)])
    try:
        rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        return value
    text = format(rounded, "f")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text == "-0" else text


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
