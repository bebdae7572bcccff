"""A day's alerts for one person, as one message. Pure.

A digest is assembled from the sections its alerts were rendered with when they
happened, not re-rendered at the end of the day: the message then says what was true
at each alert, even if the objective changed again since.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from . import layout
from .rendering import Rendered
from .wording import DAY_FORMAT, WORDS, Language, one_line


@dataclass(frozen=True)
class DigestSection:
    subject: str
    section_text: str
    section_html: str  # trusted: rendered and escaped by `render_alert`, embedded as is

    @classmethod
    def of(cls, rendered: Rendered) -> "DigestSection":
        return cls(rendered.subject, rendered.section_text, rendered.section_html)


def render_digest(
    sections: Sequence[DigestSection],
    *,
    language: Language,
    name: str,
    day: datetime.date,
    preferences_url: str | None = None,
) -> Rendered:
    w = WORDS[language]
    count = w["digest.one"] if len(sections) == 1 else w["digest.many"].format(n=len(sections))
    when = day.strftime(DAY_FORMAT[language])
    subject = "[Regia] " + w["digest.subject"].format(day=when, count=count)
    greeting = w["greeting"].format(name=one_line(name))
    intro = w["digest.intro"].format(day=when, count=count)
    body: list[str] = []
    for i, section in enumerate(sections):
        body += [layout.RULE] if i else []
        body.append(section.section_text.strip("\n"))
    text = layout.page_text(
        greeting=greeting, intro=intro, body=body, language=language, reference=None, preferences_url=preferences_url
    )
    html = layout.page_html(
        "digest.html.j2",
        language=language,
        subject=subject,
        greeting=greeting,
        intro=intro,
        sections=[layout.trusted(s.section_html) for s in sections],
        signature=w["signature"],
        reference=None,
        preferences_url=preferences_url,
    )
    return Rendered(subject=subject, text=text, html=html, section_text="", section_html="")
