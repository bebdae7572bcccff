"""Reading an import's configuration from the command line and from an objective map.

`--level REGIONE=regione-liguria:por-fesr-liguria` says which institution records a
level's share of each project, from which of its instruments. The objective map is a
2-column `;`-separated CSV, `project;objective_id`, optionally with that header line.
"""

import csv
from collections.abc import Iterable

from regia_shared.contracts.levels import GovernmentLevel as Level

from .mapping import MAX_ID, SLUG, Target

# Italian names as in the OpenCoesione columns (FINANZ_UE, FINANZ_PRIVATO) are accepted too.
_ALIASES = {"UE": Level.EU, "PRIVATO": Level.PRIVATE}


class ConfigError(ValueError):
    """A configuration value cannot be used; the message says which and why."""


def parse_level_option(text: str) -> tuple[Level, Target]:
    name, eq, rest = text.partition("=")
    institution, colon, instrument = rest.partition(":")
    if not eq or not colon:
        raise ConfigError(
            f"--level {text!r}: write LEVEL=INSTITUTION:INSTRUMENT, e.g. REGIONE=regione-liguria:por-fesr-liguria"
        )
    key = name.strip().upper()
    level = _ALIASES.get(key) or next((lv for lv in Level if lv.value == key), None)
    if level is None:
        raise ConfigError(
            f"--level {text!r}: {name!r} is not a level; use one of {', '.join(lv.value for lv in Level)}"
        )
    for what, value in (("institution", institution), ("instrument", instrument)):
        check_slug(f"--level {text!r}: the {what} id", value)
    return level, Target(institution, instrument)


def parse_column_option(text: str) -> tuple[str, Level]:
    """`--column FINANZ_RISORSE_LIBERATE=REGIONE`: the level a money column's money is at."""
    column, eq, name = text.partition("=")
    column = column.strip().upper()
    if not eq or not (column.startswith("FINANZ_") and column.replace("_", "").isalnum()):
        raise ConfigError(
            f"--column {text!r}: write COLUMN=LEVEL with one of the file's FINANZ_* columns, "
            "e.g. FINANZ_RISORSE_LIBERATE=REGIONE"
        )
    key = name.strip().upper()
    level = _ALIASES.get(key) or next((lv for lv in Level if lv.value == key), None)
    if level is None:
        raise ConfigError(
            f"--column {text!r}: {name!r} is not a level; use one of {', '.join(lv.value for lv in Level)}"
        )
    return column, level


def parse_objective_map(lines: Iterable[str]) -> dict[str, str]:
    """project code -> objective id. A project listed twice with different objectives is an
    error rather than a silent last-one-wins."""
    objectives: dict[str, str] = {}
    for number, cells in enumerate(csv.reader(lines, delimiter=";"), start=1):
        cells = [c.strip().lstrip("\ufeff") for c in cells]
        if not any(cells):
            continue
        if number == 1 and [c.lower() for c in cells] == ["project", "objective_id"]:
            continue
        if len(cells) != 2 or not cells[0]:
            raise ConfigError(
                f"objective map, line {number}: expected 'project;objective_id', found {';'.join(cells)!r}"
            )
        project, objective = cells
        check_slug(f"objective map, line {number}: the objective id", objective)
        if objectives.setdefault(project, objective) != objective:
            raise ConfigError(
                f"objective map, line {number}: project {project} is mapped both to "
                f"{objectives[project]!r} and to {objective!r}"
            )
    return objectives


def check_slug(what: str, value: str) -> None:
    if not SLUG.fullmatch(value) or len(value) > MAX_ID:
        raise ConfigError(
            f"{what} {value!r} must be 1 to {MAX_ID} letters, digits, '.', '_', ':' "
            "or '-', starting with a letter or digit"
        )
