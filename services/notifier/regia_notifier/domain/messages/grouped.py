"""One message for everything a person is told at once: the alerts of a grouping window,
or of a day's or a week's digest. Pure.

The objective-years are folded to their net change (domain.grouping.fold): a cut that
moved an objective's status and its money is one entry, "PARZIALMENTE FINANZIATO → A
RISCHIO, impegnato € 4.500.000,00 → € 3.000.000,00", with what is missing, who committed
what, where it sits in the plan and its console page. Before them, what caused it, in a
sentence per cause (who acted on which line, and why), as the caller has found it. Other
alerts (a revoked line the person's institution holds, a closed review, the current state
told to a new lead) follow as their own sections.

A message with one alert reads as that alert alone always has: its own subject and facts.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from ..grouping import NetChange, fold
from ..occurrences import FundingDrop, Occurrence, StatusChange, worsens
from . import layout
from .alerts import Alert, Fact, describe, story
from .causes import SHOWN, cause_sentence
from .rendering import Rendered, render_alert
from .wording import DAY_FORMAT, WORDS, Language, money, one_line, percent, status_label, whole_percent

Cadence = Literal["immediate", "daily_digest", "weekly_digest"]

# Past this many objective-years, a message lists the rest on one line each: a bulk import
# that moved two thousand objectives of one lead is one message, not a book.
DETAILED = 25
LISTED = 500


@dataclass(frozen=True)
class Carried:
    """An alert a message carries. `occurrence` is None for an alert queued by a version
    that kept only its rendered section (`section_text`, `section_html`), shown as is."""

    occurrence: Occurrence | None
    cause_event_id: str
    correlation_id: str
    subject: str = ""
    section_text: str = ""
    section_html: str = ""


_WORDS: dict[str, dict[str, str]] = {
    "it": {
        "intro.one": "è cambiato un obiettivo che seguite.",
        "intro.many": "sono cambiati {n} obiettivi che seguite.",
        "intro.mixed": "ecco {n} avvisi sugli obiettivi che seguite.",
        "subject.drop": "finanziamento in calo del {pct}",
        "subject.many": "{n} obiettivi cambiati",
        "subject.mixed": "{n} avvisi",
        "weekly.subject": "Riepilogo della settimana al {day}: {count}",
        "weekly.intro": "ecco il riepilogo della settimana al {day}: {count}.",
        "committed.change": "{before} → {after} (−{drop}, −{pct})",
        "committed.rise": "{before} → {after}",
        "more": "…e altri {n} obiettivi: sono tutti nella console.",
        "listed": "Altri obiettivi cambiati",
        "settled": "{n} cambiamenti si sono annullati nel frattempo e non sono riportati.",
    },
    "en": {
        "intro.one": "an objective you follow has changed.",
        "intro.many": "{n} objectives you follow have changed.",
        "intro.mixed": "here are {n} alerts about objectives you follow.",
        "subject.drop": "funding down {pct}",
        "subject.many": "{n} objectives changed",
        "subject.mixed": "{n} alerts",
        "weekly.subject": "Weekly digest to {day}: {count}",
        "weekly.intro": "here is the digest of the week to {day}: {count}.",
        "committed.change": "{before} → {after} (−{drop}, −{pct})",
        "committed.rise": "{before} → {after}",
        "more": "…and {n} more objectives: all of them are in the console.",
        "listed": "Other objectives that changed",
        "settled": "{n} changes cancelled each other out meanwhile and are left out.",
    },
}


def render_message(
    carried: Sequence[Carried],
    *,
    language: Language,
    name: str,
    cadence: Cadence = "immediate",
    day: date | None = None,
    preferences_url: str | None = None,
) -> Rendered | None:
    """The one message for `carried` (oldest first), or None when nothing is left to say:
    every change was undone within the window. `preferences_url`: the reader's preferences
    page, linked from the footer."""
    occurrences = [c.occurrence for c in carried if c.occurrence is not None]
    legacy = [c for c in carried if c.occurrence is None]
    folded = fold(occurrences)
    if not folded.changes and not folded.others and not legacy:
        return None
    w, g = WORDS[language], _WORDS[language]
    greeting = w["greeting"].format(name=one_line(name))
    lead: list[str] = []
    digest = cadence != "immediate"
    if not digest and not legacy and len(folded.changes) + len(folded.others) == 1:
        if folded.others:
            alone = folded.others[0]
            event_id = _event_of_other(alone, carried)
            return render_alert(alone, language=language, name=name, event_id=event_id, preferences_url=preferences_url)
        return _single(folded.changes[0], carried, greeting, language, preferences_url)
    sections = _sections(folded.changes, folded.others, carried, language)
    body_text = [text for text, _ in sections] + [c.section_text.strip("\n") for c in legacy]
    body_html = [html for _, html in sections] + [c.section_html for c in legacy]
    count = len(folded.changes) + len(folded.others) + len(legacy)
    if digest:
        if day is None:
            raise ValueError("a digest needs its day")
        subject, intro = _digest_heading(count, cadence, day, language)
    elif folded.others or legacy:
        subject, intro = "[Regia] " + g["subject.mixed"].format(n=count), g["intro.mixed"].format(n=count)
    else:
        subject, intro = "[Regia] " + g["subject.many"].format(n=count), g["intro.many"].format(n=count)
    if folded.settled:
        lead = [*lead, g["settled"].format(n=folded.settled)]
    text_body: list[str] = [*lead, ""] if lead else []
    for i, section in enumerate(body_text):
        text_body += [layout.RULE] if i else []
        text_body.append(section)
    text = layout.page_text(
        greeting=greeting,
        intro=intro,
        body=text_body,
        language=language,
        reference=None,
        preferences_url=preferences_url,
    )
    html = layout.page_html(
        "digest.html.j2",
        preferences_url=preferences_url,
        language=language,
        subject=subject,
        greeting=greeting,
        intro=intro,
        lead=lead,
        sections=[layout.trusted(s) for s in body_html],
        signature=w["signature"],
        reference=None,
    )
    return Rendered(subject=subject, text=text, html=html, section_text="", section_html="")


def describe_change(change: NetChange, language: Language, *, causes_in_story: bool = True) -> Alert:
    """One objective-year's net change: its own message, or a section of a larger one.
    Its causes (who moved which line, and why) open its story, unless the caller puts them
    first in the message itself."""
    w, g = WORDS[language], _WORDS[language]
    title = one_line(change.title)
    new = status_label(change.status, language)
    status = f"{status_label(change.previous, language)} → {new}" if change.previous is not None else new
    facts: tuple[Fact, ...] = (
        (w["objective"], title),
        (w["year"], str(change.fiscal_year)),
        (w["status"], status),
        (w["committed"], _committed(change, language)),
        (w["need"], money(change.need_cents, language)),
        (w["coverage"], percent(change.coverage_bp, language)),
    )
    if change.at_risk_threshold_pct is not None:
        facts += ((w["threshold"], whole_percent(change.at_risk_threshold_pct, language)),)
    heading = f"{title} {change.fiscal_year}: "
    if change.status_changed:
        heading += new
        if change.dropped_cents:
            heading += ", " + g["subject.drop"].format(pct=percent(change.drop_bp, language))
    elif change.dropped_cents:
        heading += w["subject.drop"].format(pct=percent(change.drop_bp, language))
    else:
        heading += new
    if change.status_changed:
        intro = w["intro.status"]
    elif change.dropped_cents:
        intro = w["intro.drop"].format(pct=percent(change.drop_bp, language))
    else:
        intro = g["intro.one"]
    return Alert(
        heading,
        intro,
        facts,
        w["ref.objective"].format(id=one_line(change.objective_id)),
        story(
            change.gap,
            change.committed_by_level,
            change.path,
            change.console_url,
            language,
            change.causes if causes_in_story else (),
        ),
    )


def _committed(change: NetChange, language: Language) -> str:
    g = _WORDS[language]
    after = money(change.committed, language)
    if change.committed_before is None or change.committed_before == change.committed:
        return after
    before = money(change.committed_before, language)
    if change.dropped_cents:
        drop, pct = money(change.dropped_cents, language), percent(change.drop_bp, language)
        return g["committed.change"].format(before=before, after=after, drop=drop, pct=pct)
    return g["committed.rise"].format(before=before, after=after)


def _single(
    change: NetChange, carried: Sequence[Carried], greeting: str, language: Language, preferences_url: str | None
) -> Rendered:
    # What caused it comes first, in place of the intro: who moved which line, and why, is
    # what the reader did not know. Many causes (a bulk operation) stay in the story.
    told = 0 < len(change.causes) <= SHOWN
    alert = describe_change(change, language, causes_in_story=not told)
    reference = alert.reference(language, carried[0].cause_event_id)
    intro = " ".join(cause_sentence(c, language) for c in change.causes) if told else alert.intro
    text = layout.page_text(
        greeting=greeting,
        intro=intro,
        body=layout.facts_text(alert.facts, alert.story),
        language=language,
        reference=reference,
        preferences_url=preferences_url,
    )
    html = layout.page_html(
        "alert.html.j2",
        preferences_url=preferences_url,
        language=language,
        subject=alert.subject,
        greeting=greeting,
        intro=intro,
        facts=alert.facts + alert.story,
        signature=WORDS[language]["signature"],
        reference=reference,
    )
    return Rendered(
        subject=alert.subject,
        text=text,
        html=html,
        section_text=layout.section_text(alert.heading, alert.facts, reference, alert.story),
        section_html=layout.section_html(alert.heading, alert.facts + alert.story, reference),
    )


def _sections(
    changes: list[NetChange], others: list[Occurrence], carried: Sequence[Carried], language: Language
) -> list[tuple[str, str]]:
    """(text, html) of each section: the changes, worst first, then the other alerts."""
    g = _WORDS[language]
    event_of = _events_by_subject(carried)
    ordered = sorted(changes, key=_worst_first)
    sections: list[tuple[str, str]] = []
    for change in ordered[:DETAILED]:
        alert = describe_change(change, language)
        ref = alert.reference(language, event_of.get((change.objective_id, change.fiscal_year), ""))
        sections.append(
            (
                layout.section_text(alert.heading, alert.facts, ref, alert.story),
                layout.section_html(alert.heading, alert.facts + alert.story, ref),
            )
        )
    rest = ordered[DETAILED:]
    if rest:
        listed = [(describe_change(c, language).heading, c.console_url or "") for c in rest[:LISTED]]
        lines = [f"{heading}  {url}".rstrip() for heading, url in listed]
        if len(rest) > LISTED:
            lines.append(g["more"].format(n=len(rest) - LISTED))
        facts: tuple[Fact, ...] = tuple((str(i), line) for i, line in enumerate(lines, start=1))
        sections.append(
            (
                "\n".join([g["listed"], *lines]),
                layout.section_html(g["listed"], facts, ""),
            )
        )
    for o in others:
        # Its intro too: for some kinds (one level only, a milestone, an indicator) it is
        # what says why it matters.
        alert = describe(o, language)
        ref = alert.reference(language, _event_of_other(o, carried))
        sections.append(
            (
                layout.section_text(alert.heading, alert.facts, ref, alert.story, intro=alert.intro),
                layout.section_html(alert.heading, alert.facts + alert.story, ref, intro=alert.intro),
            )
        )
    return sections


def _worst_first(change: NetChange) -> tuple[int, int]:
    """Worsened first, then those with the most money missing to the threshold."""
    missing = change.gap.to_threshold_cents if change.gap is not None else 0
    return (0 if worsens(change.status_before, change.status) else 1, -missing)


def _events_by_subject(carried: Sequence[Carried]) -> dict[tuple[str, int], str]:
    """The first event that told of each objective-year: what a reader quotes."""
    found: dict[tuple[str, int], str] = {}
    for c in carried:
        o = c.occurrence
        if isinstance(o, StatusChange | FundingDrop):
            found.setdefault((o.objective_id, o.fiscal_year), c.cause_event_id)
    return found


def _event_of_other(occurrence: Occurrence, carried: Sequence[Carried]) -> str:
    return next((c.cause_event_id for c in carried if c.occurrence is occurrence), carried[0].cause_event_id)


def _digest_heading(count: int, cadence: Cadence, day: date, language: Language) -> tuple[str, str]:
    w, g = WORDS[language], _WORDS[language]
    n = w["digest.one"] if count == 1 else w["digest.many"].format(n=count)
    when = day.strftime(DAY_FORMAT[language])
    if cadence == "weekly_digest":
        return "[Regia] " + g["weekly.subject"].format(day=when, count=n), g["weekly.intro"].format(day=when, count=n)
    return "[Regia] " + w["digest.subject"].format(day=when, count=n), w["digest.intro"].format(day=when, count=n)
