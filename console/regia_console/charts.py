"""Charts as inline SVG rendered on the server: no chart library, no script, and nothing
a Content-Security-Policy of 'self' would block (colours come from CSS classes, not from
style attributes). Every text that reaches the SVG is escaped."""

from collections.abc import Callable, Iterable, Mapping

from markupsafe import Markup, escape

LEVELS = ("COMUNE", "PROVINCIA", "REGIONE", "STATO", "EU", "PRIVATE")


def level_class(level: str) -> str:
    """A CSS class for a level; anything unexpected is 'OTHER', never echoed into markup."""
    return f"lv-{level}" if level in LEVELS else "lv-OTHER"


def ordered_levels(levels: Iterable[str]) -> list[str]:
    present = set(levels)
    return [lv for lv in LEVELS if lv in present] + sorted(present - set(LEVELS))


def coverage_segments(committed_by_level: Mapping[str, int], need_cents: int) -> list[tuple[str, float]]:
    """(level, share of the need in %) per level, in level order, capped at 100 % in all:
    an over-covered year fills the bar, it does not overflow it."""
    if need_cents <= 0:
        return []
    segments, used = [], 0.0
    for level in ordered_levels(committed_by_level):
        share = min(100.0 - used, committed_by_level[level] * 100.0 / need_cents)
        if share > 0:
            segments.append((level, round(share, 2)))
            used += share
    return segments


def coverage_bar(committed_by_level: Mapping[str, int], need_cents: int, label: str = "", css: str = "bar") -> Markup:
    """One bar, its width the need, split by the level that covers each part."""
    x, rects = 0.0, []
    for level, share in coverage_segments(committed_by_level, need_cents):
        rects.append(
            f'<rect class="{level_class(level)}" x="{x:g}" width="{share:g}" height="10">'
            f"<title>{escape(level)} {share:g}%</title></rect>"
        )
        x += share
    return Markup(
        f'<svg class="{css}" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(label)}"><rect class="uncovered" width="100" height="10"/>' + "".join(rects) + "</svg>"
    )


def grouped_bars(
    rows: Iterable[Mapping], level_name: Callable[[str], str], money: Callable[[int], str], height: int = 220
) -> Markup:
    """Committed money per year (groups) and level (bars), from funding's totals grouped
    by level and year: rows of {level, fiscal_year, committed_cents}."""
    cells = {(int(r["fiscal_year"]), str(r["level"])): int(r["committed_cents"]) for r in rows}
    if not cells:
        return Markup("")
    years = sorted({y for y, _ in cells})
    levels = ordered_levels({lv for _, lv in cells})
    top = max(cells.values()) or 1
    bar, gap, left, plot = 14, 18, 8, height - 40
    group = bar * len(levels) + gap
    width = left + group * len(years) + 8
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="funding">',
        f'<line class="axis" x1="{left}" y1="{plot}" x2="{width - 4}" y2="{plot}"/>',
    ]
    for i, year in enumerate(years):
        x0 = left + i * group + gap // 2
        for j, level in enumerate(levels):
            value = cells.get((year, level), 0)
            h = round(value * (plot - 10) / top, 1)
            parts.append(
                f'<rect class="{level_class(level)}" x="{x0 + j * bar}" y="{plot - h}" '
                f'width="{bar - 2}" height="{h}"><title>{year} · {escape(level_name(level))}: '
                f"{escape(money(value))}</title></rect>"
            )
        parts.append(f'<text x="{x0 + (bar * len(levels)) / 2:g}" y="{plot + 16}" text-anchor="middle">{year}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(levels: Iterable[str], level_name: Callable[[str], str]) -> Markup:
    items = [
        f'<li><svg class="swatch" viewBox="0 0 10 10"><rect class="{level_class(lv)}" '
        f'width="10" height="10"/></svg>{escape(level_name(lv))}</li>'
        for lv in ordered_levels(levels)
    ]
    return Markup('<ul class="legend">' + "".join(items) + "</ul>")
