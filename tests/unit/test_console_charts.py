"""The SVG bars: shares of the need by level, capped, escaped, and CSP-safe."""

import re
from pathlib import Path

from regia_console import charts
from regia_console.rendering import euros, percent
from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.contracts.money import format_euro, format_percent

from ..support.colour import too_close_for_dichromats

CSS = Path(charts.__file__).parent / "static" / "console.css"


def test_a_year_is_split_by_level_in_level_order() -> None:
    segments = charts.coverage_segments({"REGIONE": 300, "COMUNE": 100}, 1000)
    assert segments == [("COMUNE", 10.0), ("REGIONE", 30.0)]


def test_an_over_covered_year_fills_the_bar_and_no_more() -> None:
    segments = charts.coverage_segments({"COMUNE": 800, "EU": 800}, 1000)
    assert sum(share for _, share in segments) == 100.0


def test_a_year_without_need_draws_no_segment() -> None:
    assert charts.coverage_segments({"COMUNE": 5}, 0) == []


def test_a_bar_has_no_style_attribute_and_escapes_what_it_shows() -> None:
    svg = str(charts.coverage_bar({"<script>": 10}, 100, label='"><script>'))
    assert "style=" not in svg
    assert "<script>" not in svg
    assert 'class="lv-OTHER"' in svg  # an unknown level never becomes a class name


def test_grouped_bars_have_one_group_per_year_and_one_bar_per_level() -> None:
    rows = [
        {"level": "REGIONE", "fiscal_year": 2026, "committed_cents": 100},
        {"level": "COMUNE", "fiscal_year": 2027, "committed_cents": 50},
        {"level": "REGIONE", "fiscal_year": 2027, "committed_cents": 25},
    ]
    svg = str(charts.grouped_bars(rows, lambda lv: lv.title(), lambda c: f"{c}c"))
    assert svg.count(">2026</text>") == 1 and svg.count(">2027</text>") == 1
    assert svg.count('class="lv-REGIONE"') == 2 and svg.count('class="lv-COMUNE"') == 2
    assert "2027 · Comune: 50c" in svg


def test_no_rows_no_chart() -> None:
    assert str(charts.grouped_bars([], str, str)) == ""


def test_money_and_percentages_read_as_each_language_writes_them() -> None:
    assert euros(123456789, "it") == "€ 1.234.567,89"
    assert euros(123456789, "en") == "€1,234,567.89"
    assert percent(6000, "it") == "60,00 %" and percent(6000, "en") == "60.00%" and percent(5, "it") == "0,05 %"
    # The console formats with the shared functions, the ones the notifier's e-mails use.
    assert format_euro(-5, "en") == "-€0.05" and format_percent(-3333, "en") == "-33.33%"
    assert format_percent(6000) == "60,00 %" and format_euro(123456789) == "€ 1.234.567,89"


def test_a_missing_or_malformed_amount_reads_as_a_dash() -> None:
    for value in (None, "12", 1.5, True):
        assert euros(value, "en") == "–" and percent(value, "it") == "–"


def level_fills() -> dict[str, tuple[float, float, float]]:
    """Each `.lv-X { fill:#rrggbb; }` of console.css, as RGB in 0..1."""
    found = re.findall(r"\.lv-([A-Z_]+)\s*\{\s*fill:\s*#([0-9a-fA-F]{6})\s*;?\s*\}", CSS.read_text())
    return {name: tuple(int(hex_[i : i + 2], 16) / 255 for i in (0, 2, 4)) for name, hex_ in found}  # type: ignore[misc]


def test_every_level_of_the_contracts_has_its_own_colour_that_colour_blind_readers_tell_apart() -> None:
    """A level added to the contracts is a filter option and a legend entry at once
    (charts.LEVELS follows GovernmentLevel); without a colour of its own its bars would be
    the grey of an unknown level. Every colour, OTHER's too, stays apart from the others as
    a reader with deuteranopia or protanopia sees them (the browser test checks the same on
    the colours the page computes)."""
    assert charts.LEVELS == tuple(level.value for level in GovernmentLevel)
    assert {"OTHER_PUBLIC", "FOREIGN_STATE"} <= set(charts.LEVELS)
    fills = level_fills()
    assert set(charts.LEVELS) | {"OTHER"} <= set(fills), set(charts.LEVELS) - set(fills)
    assert len({fills[name] for name in fills}) == len(fills), "two levels share a colour"
    assert too_close_for_dichromats(fills) == []
    assert charts.level_class("OTHER_PUBLIC") == "lv-OTHER_PUBLIC"
