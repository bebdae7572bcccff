"""Pages from Jinja2 templates, autoescaped, in the reader's language. The language a
reader picks with ?lang= is remembered in a cookie; otherwise the browser's is used."""

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from regia_shared.contracts.money import format_euro, format_percent

from . import charts
from .gateway import segment
from .i18n import LABELS, LANGUAGES, REASONS, TRIGGERS, choose_language, translator
from .roles import may_write, nav_for

LANG_COOKIE = "regia_console_lang"
HERE = Path(__file__).parent

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# Jinja's own urlencode keeps "/" as it is: an id in a link must stay one path segment.
templates.filters["segment"] = segment


def here(request: Request) -> str:
    """This page's path as it goes back into a link or a Location header: its decoded
    form re-encoded, so an id holding `?` or `#` does not turn into a query or fragment."""
    return quote(request.scope.get("root_path", "") + request.scope["path"], safe="/")


def language_of(request: Request) -> str:
    return choose_language(
        request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")
    )


def language_for(request: Request, theirs: object) -> str:
    """The language of a page for one known person (a page an e-mail links to): what the
    reader picked here (?lang=, remembered), else the language of their e-mails, else
    the browser's."""
    if request.query_params.get("lang") in LANGUAGES or request.cookies.get(LANG_COOKIE) in LANGUAGES:
        return language_of(request)
    return theirs if isinstance(theirs, str) and theirs in LANGUAGES else language_of(request)


def switch_href(request: Request, language: str) -> str:
    """This page in another language, its other query parameters kept."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", language)]
    return f"{here(request)}?{urlencode(params)}"


def _whole(value: object) -> int | None:
    """An amount as a service sent it, or None (shown as "–") when missing or not a number."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def euros(value: object, language: str) -> str:
    cents = _whole(value)
    return "–" if cents is None else format_euro(cents, language)


def percent(value: object, language: str) -> str:
    basis_points = _whole(value)
    return "–" if basis_points is None else format_percent(basis_points, language)


def whole_number(value: object, language: str) -> str:
    """A count as each language groups its digits: 88.678, 88,678."""
    whole = _whole(value)
    if whole is None:
        return "–"
    grouped = f"{whole:,}"
    return grouped.replace(",", ".") if language == "it" else grouped


def whole_percent(value: object, language: str) -> str:
    """A whole percentage (a threshold) as each language writes it: '80 %', '80%'."""
    whole = _whole(value)
    if whole is None:
        return "–"
    return f"{whole} %" if language == "it" else f"{whole}%"


def query_string(given: Mapping[str, object] | None = None, **params: object) -> str:
    """A link's query: the parameters given (a mapping, then keywords), those unset left out."""
    merged = {**(given or {}), **params}
    return urlencode([(k, v) for k, v in merged.items() if v is not None and v != "" and v is not False])


def render(
    request: Request, name: str, status_code: int = 200, *, language: str | None = None, **context: object
) -> HTMLResponse:
    """The page in `language`, or the reader's (language_of) when not given."""
    language = language or language_of(request)
    t = translator(language)
    session = context.get("session")
    role = getattr(session, "role", None)

    def level_name(level: str) -> str:
        return t(f"level_{level if level in charts.LEVELS else 'OTHER'}")

    html = templates.get_template(name).render(
        request=request,
        lang=language,
        t=t,
        charts=charts,
        money=lambda cents: euros(cents, language),
        pct=lambda bp: percent(bp, language),
        whole_pct=lambda n: whole_percent(n, language),
        level_name=level_name,
        # a bar segment's title: the level and its money, so hovering names each funder
        level_money=lambda level, cents: f"{level_name(level)}: {euros(cents, language)}",
        # a trigger or a reason this version does not know shows as the notifier sent it
        trigger_name=lambda trigger: t(f"trigger_{trigger}") if trigger in TRIGGERS else str(trigger or ""),
        reason_words=lambda reason: t(REASONS[reason]) if reason in REASONS else str(reason or ""),
        switch=lambda other: switch_href(request, other),
        qs=query_string,
        number=lambda n: whole_number(n, language),
        known=lambda key: key in LABELS,  # a word the console has, for values a service may add to
        # What the person's role opens: the navigation, and whether write buttons show.
        nav=nav_for(role) if role is not None else [],
        can_write=role is not None and may_write(role),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") == language:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="strict", httponly=True)
    return response
