"""How a message is laid out: plain text by hand, HTML from jinja2 templates. Pure.

Plain text is assembled here rather than templated: its alignment and blank lines are
the whole of its layout, and a template's whitespace control would hide them.
HTML templates autoescape every value: titles, names and reasons come from outside.
"""

from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .alerts import Fact
from .wording import WORDS, Language

# Templates ship inside the package and are read once, when first used.
_TEMPLATES = Environment(
    loader=PackageLoader("regia_notifier.domain.messages", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,  # a misspelt variable fails a test instead of vanishing
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,  # a document ends with a line break, as a mail part should
    auto_reload=False,  # they never change while the service runs: no stat() per render
)

RULE = "-" * 40  # between the sections of a digest
SIGNATURE_SEPARATOR = "-- "  # RFC 3676: mail clients fold or grey what follows


def facts_text(facts: Sequence[Fact], story: Sequence[Fact] = ()) -> list[str]:
    """The facts aligned, then the story (if any) after a blank line, aligned on its own."""
    lines = _aligned(facts)
    return lines + ([""] + _aligned(story) if story else [])


def _aligned(facts: Sequence[Fact]) -> list[str]:
    width = max((len(label) for label, _ in facts), default=0) + 1
    return [f"{label + ':':<{width}} {value}" for label, value in facts]


def page_text(
    *,
    greeting: str,
    intro: str,
    body: Sequence[str],
    language: Language,
    reference: str | None,
    preferences_url: str | None = None,
) -> str:
    """The whole plain-text message. The footer, below the signature separator: the
    signature, the reference if any, and the reader's preferences page if they have one
    (a person does; a message with no person behind it has none)."""
    footer = [WORDS[language]["signature"], *([reference] if reference else [])]
    if preferences_url:
        footer.append(f"{WORDS[language]['preferences']}: {preferences_url}")
    lines = [greeting, "", intro, "", *body, "", SIGNATURE_SEPARATOR, *footer, ""]
    return "\n".join(lines)


def section_text(
    heading: str, facts: Sequence[Fact], reference: str, story: Sequence[Fact] = (), intro: str = ""
) -> str:
    """A section of a message of several alerts: heading, what it means (`intro`, if
    given), one block of facts (the story's among them), reference."""
    return "\n".join([heading, *([sentence(intro)] if intro else []), *_aligned([*facts, *story]), reference])


def page_html(template: str, *, preferences_url: str | None = None, **values: Any) -> str:
    """A whole HTML document (or fragment) from its template; a page's footer links to the
    reader's preferences page when `preferences_url` is given, in `language`'s words."""
    language = values.get("language")
    label = WORDS[language]["preferences"] if language in WORDS else None
    return _TEMPLATES.get_template(template).render(preferences_url=preferences_url, preferences_label=label, **values)


def section_html(heading: str, facts: Sequence[Fact], reference: str, intro: str = "") -> str:
    return page_html("section.html.j2", heading=heading, intro=sentence(intro), facts=facts, reference=reference)


def sentence(intro: str) -> str:
    """An intro written to follow a greeting ("è cambiato...", "a milestone...") as a
    sentence of its own, under a section's heading."""
    return intro[:1].upper() + intro[1:]


def trusted(fragment: str) -> Markup:
    """An HTML fragment this package rendered (and escaped) itself, to embed as is."""
    return Markup(fragment)
