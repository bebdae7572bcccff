"""One alert as an e-mail: subject, plain text, HTML, and its section for a digest. Pure."""

from dataclasses import dataclass

from ..occurrences import Occurrence
from . import layout
from .alerts import describe
from .wording import WORDS, Language, one_line


@dataclass(frozen=True)
class Rendered:
    subject: str  # one line, starts with "[Regia] "
    text: str  # the whole plain-text body
    html: str  # the whole HTML document, same content
    section_text: str  # this alert alone, to include in a digest
    section_html: str  # the same as an HTML fragment


def render_alert(
    occurrence: Occurrence, *, language: Language, name: str, event_id: str, preferences_url: str | None = None
) -> Rendered:
    """`preferences_url`: the reader's preferences page, linked from the footer (a digest
    section has no footer: its digest links the page once)."""
    alert = describe(occurrence, language)
    greeting = WORDS[language]["greeting"].format(name=one_line(name))
    reference = alert.reference(language, event_id)
    text = layout.page_text(
        greeting=greeting,
        intro=alert.intro,
        body=layout.facts_text(alert.facts, alert.story),
        language=language,
        reference=reference,
        preferences_url=preferences_url,
    )
    html = layout.page_html(
        "alert.html.j2",
        language=language,
        subject=alert.subject,
        greeting=greeting,
        intro=alert.intro,
        facts=alert.facts + alert.story,
        signature=WORDS[language]["signature"],
        reference=reference,
        preferences_url=preferences_url,
    )
    return Rendered(
        subject=alert.subject,
        text=text,
        html=html,
        section_text=layout.section_text(alert.heading, alert.facts, reference, alert.story),
        section_html=layout.section_html(alert.heading, alert.facts + alert.story, reference),
    )
