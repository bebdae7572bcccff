"""Charts as inline SVG rendered on the server: no chart library, no script, and nothing
a Content-Security-Policy of 'self' would block (colours come from CSS classes, not from
style attributes). Every text that reaches the SVG is escaped."""

from collections.abc import Callable, Iterable, Mapping

from markupsafe import Markup, escape

from regia_shared.contracts.levels import GovernmentLevel

# Every level the contracts know, in their order (from the Comune up, then the funders beside
# government): a level added there gets its filter option, legend entry and bar colour here
# (console.css has one `.lv-` class per level; tests/unit/test_console_charts.py checks it).
LEVELS = tuple(level.value for level in GovernmentLevel)


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


MIN_SEGMENT = 1.5  # % of a bar: the least a funder is drawn, however little it gave
SEGMENT_GAP = 0.4  # % of a bar left white between two levels, so adjacent colours never merge


def funding_segments(
    committed_by_level: Mapping[str, int], need_cents: int
) -> tuple[list[tuple[str, float, float]], float | None]:
    """(level, x, width) per level that committed money, in level order, on a bar whose
    width is the need or, when more was committed, everything committed; and where the
    need ends on it (the 100 % marker) when money passes it, else None. Unlike
    coverage_segments nothing is capped: every funder has its own segment, at least
    MIN_SEGMENT wide, and money past the need is drawn past the marker."""
    amounts = [(lv, committed_by_level[lv]) for lv in ordered_levels(committed_by_level) if committed_by_level[lv] > 0]
    total = sum(a for _, a in amounts)
    scale = max(total, need_cents)
    if scale <= 0:
        return [], None
    widths = [max(MIN_SEGMENT, a * 100.0 / scale) for _, a in amounts]
    room = 100.0 - SEGMENT_GAP * max(0, len(widths) - 1) if total >= need_cents else 100.0
    squeeze = min(1.0, room / sum(widths)) if widths else 1.0
    segments, x = [], 0.0
    for (level, _), width in zip(amounts, widths, strict=True):
        width = round(width * squeeze, 2)
        segments.append((level, round(x, 2), width))
        x += width + SEGMENT_GAP
    marker = round(need_cents * 100.0 / scale, 2) if total > need_cents else None
    return segments, marker


def funding_bar(
    committed_by_level: Mapping[str, int],
    need_cents: int,
    label: str = "",
    describe: Callable[[str, int], str] | None = None,
) -> Markup:
    """A bar that never hides a funder: one segment per level, none capped; money past
    the need lies beyond a dark 100 % marker. `describe(level, cents)` titles a segment."""
    segments, marker = funding_segments(committed_by_level, need_cents)
    rects = []
    for level, x, width in segments:
        title = describe(level, committed_by_level[level]) if describe else level
        rects.append(
            f'<rect class="{level_class(level)}" x="{x:g}" width="{width:g}" height="10">'
            f"<title>{escape(title)}</title></rect>"
        )
    if marker is not None:
        rects.append(f'<rect class="need-mark" x="{max(0.0, marker - 0.4):g}" width="0.8" height="10"/>')
    over = ' data-over="1"' if marker is not None else ""
    return Markup(
        f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img"{over} '
        f'aria-label="{escape(label)}"><rect class="uncovered" width="100" height="10"/>' + "".join(rects) + "</svg>"
    )


def compact_money(cents: int, language: str) -> str:
    """An axis or a bar's value in few characters: € 4,5 Mln / €4.5M, € 120 mila / €120K."""
    euros = cents / 100
    for size, it, en in ((1e9, "Mld", "B"), (1e6, "Mln", "M"), (1e3, "mila", "K")):
        if abs(euros) >= size:
            number = f"{euros / size:.1f}".rstrip("0").rstrip(".")
            return f"€ {number.replace('.', ',')} {it}" if language == "it" else f"€{number}{en}"
    whole = f"{euros:.0f}"
    return f"€ {whole}" if language == "it" else f"€{whole}"


def _ticks(top: int) -> list[int]:
    """Round values for the y axis up to `top` (in cents): 0 and four steps of 1, 2 or 5 × 10^n."""
    if top <= 0:
        return [0]
    raw = top / 4
    power = 10 ** (len(str(int(raw))) - 1)
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(0, int(top // step) + 2) if i * step <= top + step]


def money_chart(
    rows: Iterable[Mapping],
    level_name: Callable[[str], str],
    money: Callable[[int], str],
    language: str,
    axis_labels: tuple[str, str] = ("€", ""),
    height: int = 300,
) -> Markup:
    """grouped_bars with its axes written: euro ticks and grid on the y axis, the years on
    the x axis, and each bar's value above it, so the chart reads without hovering."""
    cells = {(int(r["fiscal_year"]), str(r["level"])): int(r["committed_cents"]) for r in rows}
    if not cells:
        return Markup("")
    years = sorted({y for y, _ in cells})
    levels = ordered_levels({lv for _, lv in cells})
    ticks = _ticks(max(cells.values()))
    top = ticks[-1] or 1
    bar, gap, left, plot_top, plot = 22, 26, 78, 62, height - 34
    group = bar * len(levels) + gap
    width = left + group * len(years) + 10
    span = plot - plot_top
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(axis_labels[1])}">',
        f'<text class="axis-title" x="4" y="14">{escape(axis_labels[0])}</text>',
    ]
    for tick in ticks:
        y = plot - tick * span / top
        parts.append(f'<line class="grid" x1="{left}" y1="{y:g}" x2="{width - 4}" y2="{y:g}"/>')
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:g}" text-anchor="end">{escape(compact_money(tick, language))}</text>'
        )
    parts.append(f'<line class="axis" x1="{left}" y1="{plot_top - 6}" x2="{left}" y2="{plot}"/>')
    parts.append(f'<line class="axis" x1="{left}" y1="{plot}" x2="{width - 4}" y2="{plot}"/>')
    for i, year in enumerate(years):
        x0 = left + i * group + gap // 2
        for j, level in enumerate(levels):
            value = cells.get((year, level), 0)
            h = round(value * span / top, 1)
            x = x0 + j * bar
            parts.append(
                f'<rect class="{level_class(level)}" x="{x}" y="{plot - h}" width="{bar - 3}" height="{h}">'
                f"<title>{year} · {escape(level_name(level))}: {escape(money(value))}</title></rect>"
            )
            if value:
                cx, cy = x + (bar - 3) / 2, plot - h - 4
                parts.append(
                    f'<text class="value" x="{cx:g}" y="{cy:g}" text-anchor="start" '
                    f'transform="rotate(-60 {cx:g} {cy:g})">{escape(compact_money(value, language))}</text>'
                )
        parts.append(
            f'<text class="year" x="{x0 + (bar * len(levels)) / 2:g}" y="{plot + 18}" text-anchor="middle">{year}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


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
